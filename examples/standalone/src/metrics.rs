//! Prometheus text rendering of the layer's counters.

use std::fmt::Write as _;

use deltaglider::MetricsSnapshot;

use crate::admin::Durations;

/// Renders every metric in the Prometheus text exposition format.
pub(crate) fn render(m: &MetricsSnapshot, durations: &Durations) -> String {
    let mut out = String::new();
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        &mut out,
        "deltaglider_requests_total",
        "counter",
        "Requests by S3 operation and HTTP status (0: backend unreachable).",
    );
    for (op, status, n) in &m.requests {
        let _ = writeln!(
            out,
            "deltaglider_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
        );
    }
    family(
        &mut out,
        "deltaglider_errors_total",
        "counter",
        "Requests answered with a 4xx/5xx status or failed, by operation and status.",
    );
    for (op, status, n) in m.requests.iter().filter(|(_, s, _)| *s == 0 || *s >= 400) {
        let _ = writeln!(
            out,
            "deltaglider_errors_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
        );
    }
    family(
        &mut out,
        "deltaglider_original_bytes_total",
        "counter",
        "Bytes clients stored through the layer, by bucket.",
    );
    for (bucket, b) in &m.buckets {
        let _ = writeln!(
            out,
            "deltaglider_original_bytes_total{{bucket=\"{bucket}\"}} {}",
            b.original
        );
    }
    family(
        &mut out,
        "deltaglider_stored_bytes_total",
        "counter",
        "Bytes the layer wrote for them, by bucket.",
    );
    for (bucket, b) in &m.buckets {
        let _ = writeln!(
            out,
            "deltaglider_stored_bytes_total{{bucket=\"{bucket}\"}} {}",
            b.stored
        );
    }
    family(
        &mut out,
        "deltaglider_delta_bytes_saved_total",
        "counter",
        "Original minus stored bytes.",
    );
    let _ = writeln!(
        out,
        "deltaglider_delta_bytes_saved_total {}",
        m.bytes_saved()
    );
    let (original, stored) = m.buckets.iter().fold((0u64, 0u64), |(o, s), (_, b)| {
        (o + b.original, s + b.stored)
    });
    family(
        &mut out,
        "deltaglider_delta_compression_ratio",
        "gauge",
        "Stored bytes / original bytes over everything stored so far.",
    );
    let ratio = if original == 0 {
        1.0
    } else {
        stored as f64 / original as f64
    };
    let _ = writeln!(out, "deltaglider_delta_compression_ratio {ratio}");
    family(
        &mut out,
        "deltaglider_puts_total",
        "counter",
        "Eligible objects by storage decision.",
    );
    let _ = writeln!(
        out,
        "deltaglider_puts_total{{storage=\"delta\"}} {}",
        m.delta_puts
    );
    let _ = writeln!(
        out,
        "deltaglider_puts_total{{storage=\"direct\"}} {}",
        m.direct_puts
    );
    family(
        &mut out,
        "deltaglider_encode_seconds_total",
        "counter",
        "Time spent encoding and verifying deltas.",
    );
    let _ = writeln!(out, "deltaglider_encode_seconds_total {}", m.encode_seconds);
    family(
        &mut out,
        "deltaglider_decode_seconds_total",
        "counter",
        "Time spent reconstructing objects.",
    );
    let _ = writeln!(out, "deltaglider_decode_seconds_total {}", m.decode_seconds);
    family(
        &mut out,
        "deltaglider_cache_hits_total",
        "counter",
        "Reference cache hits.",
    );
    let _ = writeln!(out, "deltaglider_cache_hits_total {}", m.cache.hits);
    family(
        &mut out,
        "deltaglider_cache_misses_total",
        "counter",
        "Reference cache misses.",
    );
    let _ = writeln!(out, "deltaglider_cache_misses_total {}", m.cache.misses);
    family(
        &mut out,
        "deltaglider_cache_bytes",
        "gauge",
        "Bytes of references held in memory.",
    );
    let _ = writeln!(out, "deltaglider_cache_bytes {}", m.cache.bytes);
    durations.render(&mut out);
    out
}
