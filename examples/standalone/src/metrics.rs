//! Prometheus text rendering of the layer's counters, and the request-duration histogram
//! the admin layer records.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use deltaglider::MetricsSnapshot;

/// Renders every metric in the Prometheus text exposition format.
pub(crate) fn render(m: &MetricsSnapshot, durations: &Durations) -> String {
    let mut out = String::new();
    requests(&mut out, m);
    stored_bytes(&mut out, m);
    work(&mut out, m);
    durations.render(&mut out);
    out
}

/// `# HELP` and `# TYPE` of one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Requests and errors by operation and status.
fn requests(out: &mut String, m: &MetricsSnapshot) {
    family(
        out,
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
        out,
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
}

/// What clients stored and what the layer wrote for it.
fn stored_bytes(out: &mut String, m: &MetricsSnapshot) {
    family(
        out,
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
        out,
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
        out,
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
        out,
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
}

/// Storage decisions, coding time and the reference cache.
fn work(out: &mut String, m: &MetricsSnapshot) {
    family(
        out,
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
        out,
        "deltaglider_encode_seconds_total",
        "counter",
        "Time spent encoding and verifying deltas.",
    );
    let _ = writeln!(out, "deltaglider_encode_seconds_total {}", m.encode_seconds);
    family(
        out,
        "deltaglider_decode_seconds_total",
        "counter",
        "Time spent reconstructing objects.",
    );
    let _ = writeln!(out, "deltaglider_decode_seconds_total {}", m.decode_seconds);
    family(
        out,
        "deltaglider_cache_hits_total",
        "counter",
        "Reference cache hits.",
    );
    let _ = writeln!(out, "deltaglider_cache_hits_total {}", m.cache.hits);
    family(
        out,
        "deltaglider_cache_misses_total",
        "counter",
        "Reference cache misses.",
    );
    let _ = writeln!(out, "deltaglider_cache_misses_total {}", m.cache.misses);
    family(
        out,
        "deltaglider_cache_bytes",
        "gauge",
        "Bytes of references held in memory.",
    );
    let _ = writeln!(out, "deltaglider_cache_bytes {}", m.cache.bytes);
}

/// Upper bounds (seconds) of the request duration histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One operation's histogram: cumulative bucket counts, count, sum of seconds.
type Histogram = ([u64; BUCKETS.len()], u64, f64);

/// Request durations by operation.
#[derive(Debug, Default)]
pub(crate) struct Durations {
    by_op: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl Durations {
    /// Counts one request of `op` that took `seconds`.
    pub(crate) fn record(&self, op: &'static str, seconds: f64) {
        let mut by_op = self
            .by_op
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (buckets, count, sum) = by_op.entry(op).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                buckets[i] += 1;
            }
        }
        *count += 1;
        *sum += seconds;
    }

    /// The histogram in Prometheus text form.
    pub(crate) fn render(&self, out: &mut String) {
        let by_op = self
            .by_op
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str("# HELP deltaglider_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE deltaglider_request_duration_seconds histogram\n");
        for (op, (buckets, count, sum)) in by_op.iter() {
            for (bound, n) in BUCKETS.iter().zip(buckets) {
                let _ = writeln!(
                    out,
                    "deltaglider_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "deltaglider_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "deltaglider_request_duration_seconds_sum{{operation=\"{op}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "deltaglider_request_duration_seconds_count{{operation=\"{op}\"}} {count}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use deltaglider::{BucketBytes, CacheStats, MetricsSnapshot};

    use super::*;

    /// Every family, in the order and form Prometheus scrapers have been reading.
    #[test]
    fn text_format() {
        let snapshot = MetricsSnapshot {
            requests: vec![("GetObject", 200, 3), ("PutObject", 503, 1)],
            buckets: vec![(
                "b".to_owned(),
                BucketBytes {
                    original: 1000,
                    stored: 250,
                },
            )],
            delta_puts: 2,
            direct_puts: 1,
            encode_seconds: 0.5,
            encodes: 2,
            decode_seconds: 0.25,
            decodes: 3,
            cache: CacheStats {
                hits: 4,
                misses: 1,
                bytes: 4096,
            },
        };
        let durations = Durations::default();
        durations.record("GetObject", 0.003);
        let text = render(&snapshot, &durations);
        assert_eq!(text, EXPECTED);
    }

    const EXPECTED: &str = r#"# HELP deltaglider_requests_total Requests by S3 operation and HTTP status (0: backend unreachable).
# TYPE deltaglider_requests_total counter
deltaglider_requests_total{operation="GetObject",status="200"} 3
deltaglider_requests_total{operation="PutObject",status="503"} 1
# HELP deltaglider_errors_total Requests answered with a 4xx/5xx status or failed, by operation and status.
# TYPE deltaglider_errors_total counter
deltaglider_errors_total{operation="PutObject",status="503"} 1
# HELP deltaglider_original_bytes_total Bytes clients stored through the layer, by bucket.
# TYPE deltaglider_original_bytes_total counter
deltaglider_original_bytes_total{bucket="b"} 1000
# HELP deltaglider_stored_bytes_total Bytes the layer wrote for them, by bucket.
# TYPE deltaglider_stored_bytes_total counter
deltaglider_stored_bytes_total{bucket="b"} 250
# HELP deltaglider_delta_bytes_saved_total Original minus stored bytes.
# TYPE deltaglider_delta_bytes_saved_total counter
deltaglider_delta_bytes_saved_total 750
# HELP deltaglider_delta_compression_ratio Stored bytes / original bytes over everything stored so far.
# TYPE deltaglider_delta_compression_ratio gauge
deltaglider_delta_compression_ratio 0.25
# HELP deltaglider_puts_total Eligible objects by storage decision.
# TYPE deltaglider_puts_total counter
deltaglider_puts_total{storage="delta"} 2
deltaglider_puts_total{storage="direct"} 1
# HELP deltaglider_encode_seconds_total Time spent encoding and verifying deltas.
# TYPE deltaglider_encode_seconds_total counter
deltaglider_encode_seconds_total 0.5
# HELP deltaglider_decode_seconds_total Time spent reconstructing objects.
# TYPE deltaglider_decode_seconds_total counter
deltaglider_decode_seconds_total 0.25
# HELP deltaglider_cache_hits_total Reference cache hits.
# TYPE deltaglider_cache_hits_total counter
deltaglider_cache_hits_total 4
# HELP deltaglider_cache_misses_total Reference cache misses.
# TYPE deltaglider_cache_misses_total counter
deltaglider_cache_misses_total 1
# HELP deltaglider_cache_bytes Bytes of references held in memory.
# TYPE deltaglider_cache_bytes gauge
deltaglider_cache_bytes 4096
# HELP deltaglider_request_duration_seconds Time to answer a request.
# TYPE deltaglider_request_duration_seconds histogram
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.001"} 0
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.005"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.01"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.025"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.05"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.1"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.25"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="0.5"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="1"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="2.5"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="5"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="10"} 1
deltaglider_request_duration_seconds_bucket{operation="GetObject",le="+Inf"} 1
deltaglider_request_duration_seconds_sum{operation="GetObject"} 0.003
deltaglider_request_duration_seconds_count{operation="GetObject"} 1
"#;
}
