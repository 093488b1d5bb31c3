//! Prometheus text rendering of the layer's counters, and the request-duration histogram
//! the admin layer records.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use deltaglider::{Histogram, MetricsSnapshot};

/// One bucket's figures from the savings ledger (what it holds, across restarts and
/// instances).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BucketSavings {
    pub(crate) bucket: String,
    pub(crate) original_bytes: i64,
    pub(crate) stored_bytes: i64,
    pub(crate) objects: i64,
    pub(crate) references: i64,
    /// Unix seconds of the last reconciliation.
    pub(crate) reconciled_at: Option<f64>,
}

/// The buckets of a `/_deltaglider/api/savings` answer; `None` if it does not parse.
pub(crate) fn parse_savings(body: &[u8]) -> Option<Vec<BucketSavings>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("buckets")?
        .as_array()?
        .iter()
        .map(|b| {
            let n = |name: &str| b.get(name).and_then(serde_json::Value::as_i64);
            let reconciled_at = b
                .get("reconciled_at")
                .and_then(serde_json::Value::as_str)
                .and_then(rfc3339_seconds);
            Some(BucketSavings {
                bucket: b.get("bucket")?.as_str()?.to_owned(),
                original_bytes: n("original_bytes")?,
                stored_bytes: n("stored_bytes")?,
                objects: n("objects").unwrap_or(0),
                references: n("references").unwrap_or(0),
                reconciled_at,
            })
        })
        .collect()
}

/// Unix seconds of an RFC 3339 UTC time as the layer writes them
/// (`2026-12-06T16:00:00.123456Z`).
fn rfc3339_seconds(t: &str) -> Option<f64> {
    let (date, time) = t.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut hms = time.split(':');
    let (h, min) = (
        hms.next()?.parse::<i64>().ok()?,
        hms.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = hms.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60) as f64 + sec)
}

/// Renders every metric in the Prometheus text exposition format: what the buckets hold
/// (`savings`, from the ledger), then what this process did since it started.
pub(crate) fn render(
    m: &MetricsSnapshot,
    durations: &Durations,
    savings: &[BucketSavings],
    auth_failures: &[(&'static str, u64)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP deltaglider_build_info The proxy's version.\n# TYPE deltaglider_build_info gauge\ndeltaglider_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    ledger(&mut out, savings);
    requests(&mut out, &durations.requests());
    stored(&mut out, m);
    work(&mut out, m);
    family(
        &mut out,
        "deltaglider_auth_failures_total",
        "counter",
        "Requests refused by the signature check, by reason.",
    );
    for (reason, n) in auth_failures {
        let _ = writeln!(
            out,
            "deltaglider_auth_failures_total{{reason=\"{reason}\"}} {n}"
        );
    }
    durations.render(&mut out);
    out
}

/// `# HELP` and `# TYPE` of one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value escaped as the text format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The savings ledger's figures, by bucket.
fn ledger(out: &mut String, savings: &[BucketSavings]) {
    type Field = fn(&BucketSavings) -> Option<f64>;
    let gauges: [(&str, &str, Field); 6] = [
        (
            "deltaglider_original_bytes",
            "Bytes of the objects a bucket holds, as clients wrote them (savings ledger).",
            |b| Some(b.original_bytes as f64),
        ),
        (
            "deltaglider_stored_bytes",
            "Bytes stored for them: deltas, whole objects and references (savings ledger).",
            |b| Some(b.stored_bytes as f64),
        ),
        (
            "deltaglider_saved_bytes",
            "Original minus stored bytes (savings ledger).",
            |b| Some((b.original_bytes - b.stored_bytes) as f64),
        ),
        (
            "deltaglider_objects",
            "Objects a bucket holds (savings ledger).",
            |b| Some(b.objects as f64),
        ),
        (
            "deltaglider_references",
            "References a bucket holds (savings ledger).",
            |b| Some(b.references as f64),
        ),
        (
            "deltaglider_stats_reconciled_timestamp_seconds",
            "When a scan last counted the bucket afresh (Unix seconds).",
            |b| b.reconciled_at,
        ),
    ];
    for (name, help, value) in gauges {
        family(out, name, "gauge", help);
        for b in savings {
            if let Some(v) = value(b) {
                let _ = writeln!(out, "{name}{{bucket=\"{}\"}} {v}", label(&b.bucket));
            }
        }
    }
}

/// Requests by operation and status.
fn requests(out: &mut String, requests: &[(&'static str, u16, u64)]) {
    family(
        out,
        "deltaglider_requests_total",
        "counter",
        "Requests by S3 operation and HTTP status (0: backend unreachable).",
    );
    for (op, status, n) in requests {
        let _ = writeln!(
            out,
            "deltaglider_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
        );
    }
}

/// What this process stored, and how.
fn stored(out: &mut String, m: &MetricsSnapshot) {
    family(
        out,
        "deltaglider_stored_objects_total",
        "counter",
        "Objects stored by this process, by storage (delta, whole) and why whole.",
    );
    let _ = writeln!(
        out,
        "deltaglider_stored_objects_total{{storage=\"delta\",reason=\"delta\"}} {}",
        m.delta_puts
    );
    for (reason, n) in &m.whole_puts {
        let _ = writeln!(
            out,
            "deltaglider_stored_objects_total{{storage=\"whole\",reason=\"{}\"}} {n}",
            reason.name()
        );
    }
    family(
        out,
        "deltaglider_received_bytes_total",
        "counter",
        "Bytes of objects clients stored through this process, by bucket.",
    );
    for (bucket, b) in &m.buckets {
        let _ = writeln!(
            out,
            "deltaglider_received_bytes_total{{bucket=\"{}\"}} {}",
            label(bucket),
            b.original
        );
    }
    family(
        out,
        "deltaglider_written_bytes_total",
        "counter",
        "Bytes this process wrote for them (deltas, whole objects, new references), by bucket.",
    );
    for (bucket, b) in &m.buckets {
        let _ = writeln!(
            out,
            "deltaglider_written_bytes_total{{bucket=\"{}\"}} {}",
            label(bucket),
            b.stored
        );
    }
    histogram(
        out,
        "deltaglider_object_size_bytes",
        "Sizes of the objects stored.",
        &m.object_sizes,
    );
    family(
        out,
        "deltaglider_ledger_write_failures_total",
        "counter",
        "Savings ledger entries that could not be written (figures off until reconciled).",
    );
    let _ = writeln!(
        out,
        "deltaglider_ledger_write_failures_total {}",
        m.ledger_failures
    );
}

/// Coding time and throughput, and the reference cache.
fn work(out: &mut String, m: &MetricsSnapshot) {
    histogram(
        out,
        "deltaglider_encode_duration_seconds",
        "Time to encode (and verify) one delta.",
        &m.encode,
    );
    histogram(
        out,
        "deltaglider_decode_duration_seconds",
        "Time to reconstruct one object.",
        &m.decode,
    );
    let counters = [
        (
            "deltaglider_encoded_bytes_total",
            "Bytes of originals encoded.",
            m.encoded_bytes,
        ),
        (
            "deltaglider_decoded_bytes_total",
            "Bytes of originals reconstructed.",
            m.decoded_bytes,
        ),
        (
            "deltaglider_cache_hits_total",
            "Reference cache hits.",
            m.cache.hits,
        ),
        (
            "deltaglider_cache_misses_total",
            "Reference cache misses.",
            m.cache.misses,
        ),
    ];
    for (name, help, value) in counters {
        family(out, name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    }
    family(
        out,
        "deltaglider_cache_bytes",
        "gauge",
        "Bytes of references held in memory.",
    );
    let _ = writeln!(out, "deltaglider_cache_bytes {}", m.cache.bytes);
}

/// One unlabelled histogram.
fn histogram(out: &mut String, name: &str, help: &str, h: &Histogram) {
    family(out, name, "histogram", help);
    for (bound, n) in h.bounds.iter().zip(&h.cumulative) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.sum);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

/// Upper bounds (seconds) of the request duration histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One operation's histogram: cumulative bucket counts, count, sum of seconds.
type Buckets = ([u64; BUCKETS.len()], u64, f64);

/// Every request the proxy answered: counts by operation and status, durations by
/// operation — refusals before the DeltaLayer (signatures, the filesystem guard) included.
#[derive(Debug, Default)]
pub(crate) struct Durations {
    by_op: Mutex<BTreeMap<&'static str, Buckets>>,
    statuses: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl Durations {
    /// Counts one request of `op` answered `status` (0: failed) after `seconds`.
    pub(crate) fn record(&self, op: &'static str, status: u16, seconds: f64) {
        *self
            .statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((op, status))
            .or_default() += 1;
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

    /// Requests by operation and status.
    pub(crate) fn requests(&self) -> Vec<(&'static str, u16, u64)> {
        self.statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(&(op, status), &n)| (op, status, n))
            .collect()
    }

    /// Each operation's histogram.
    pub(crate) fn snapshot(&self) -> Vec<(&'static str, Histogram)> {
        let by_op = self
            .by_op
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        by_op
            .iter()
            .map(|(op, (buckets, count, sum))| {
                let histogram = Histogram {
                    bounds: &BUCKETS,
                    cumulative: buckets.to_vec(),
                    count: *count,
                    sum: *sum,
                };
                (*op, histogram)
            })
            .collect()
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
    use deltaglider::{BucketBytes, MetricsSnapshot};

    use super::*;

    /// The families a scraper reads, in the text format, with the ledger's gauges.
    #[test]
    fn text_format() {
        let snapshot = MetricsSnapshot {
            requests: vec![("GetObject", 200, 3)],
            buckets: vec![(
                "b".to_owned(),
                BucketBytes {
                    original: 1000,
                    stored: 250,
                },
            )],
            delta_puts: 2,
            ..MetricsSnapshot::default()
        };
        let durations = Durations::default();
        durations.record("GetObject", 200, 0.003);
        durations.record("PutObject", 503, 0.5);
        let savings = parse_savings(
            br#"{"buckets":[{"bucket":"b\"x","original_bytes":1000,"stored_bytes":300,"objects":4,"references":1,"reconciled_at":"1970-01-02T00:00:01.5Z"}]}"#,
        )
        .expect("parses");
        let text = render(
            &snapshot,
            &durations,
            &savings,
            &[("signature_mismatch", 2)],
        );
        for line in [
            "deltaglider_original_bytes{bucket=\"b\\\"x\"} 1000",
            "deltaglider_stored_bytes{bucket=\"b\\\"x\"} 300",
            "deltaglider_saved_bytes{bucket=\"b\\\"x\"} 700",
            "deltaglider_objects{bucket=\"b\\\"x\"} 4",
            "deltaglider_stats_reconciled_timestamp_seconds{bucket=\"b\\\"x\"} 86401.5",
            "deltaglider_requests_total{operation=\"PutObject\",status=\"503\"} 1",
            "deltaglider_stored_objects_total{storage=\"delta\",reason=\"delta\"} 2",
            "deltaglider_received_bytes_total{bucket=\"b\"} 1000",
            "deltaglider_auth_failures_total{reason=\"signature_mismatch\"} 2",
            "# TYPE deltaglider_encode_duration_seconds histogram",
            "deltaglider_request_duration_seconds_bucket{operation=\"GetObject\",le=\"0.005\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every sample belongs to a family declared before it, once.
        let mut declared = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().expect("a name");
                assert!(declared.insert(name.to_owned()), "{name} declared twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().expect("a name");
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
                    .unwrap_or(name);
                assert!(declared.contains(family), "{name} before its # TYPE");
            }
        }
    }
}
