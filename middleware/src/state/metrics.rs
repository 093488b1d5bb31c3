//! Counters the host exports (the standalone proxy renders them for Prometheus).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::state::cache::CacheStats;
use crate::state::histogram::{self, Histogram, Recorder};

/// Why an eligible object was stored whole (or that it was not eligible at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WholeReason {
    /// The key is not delta material by the configuration.
    NotEligible,
    /// The deltaspace had no reference to encode against (none similar, or the cap).
    NoReference,
    /// The delta came out over the configured share of the object.
    DeltaTooLarge,
    /// Larger than the largest object the layer encodes.
    TooBig,
}

impl WholeReason {
    /// Every reason, in order.
    pub const ALL: [Self; 4] = [
        Self::NotEligible,
        Self::NoReference,
        Self::DeltaTooLarge,
        Self::TooBig,
    ];

    /// Its label value: `not_eligible`, `no_reference`, `delta_too_large`, `too_big`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotEligible => "not_eligible",
            Self::NoReference => "no_reference",
            Self::DeltaTooLarge => "delta_too_large",
            Self::TooBig => "too_big",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Counters {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    buckets: Mutex<BTreeMap<String, BucketBytes>>,
    delta_puts: AtomicU64,
    whole_puts: Mutex<BTreeMap<WholeReason, u64>>,
    encode: Recorder,
    decode: Recorder,
    encoded_bytes: AtomicU64,
    decoded_bytes: AtomicU64,
    object_sizes: Recorder,
    ledger_failures: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            requests: Mutex::default(),
            buckets: Mutex::default(),
            delta_puts: AtomicU64::default(),
            whole_puts: Mutex::default(),
            encode: Recorder::new(histogram::SECONDS),
            decode: Recorder::new(histogram::SECONDS),
            encoded_bytes: AtomicU64::default(),
            decoded_bytes: AtomicU64::default(),
            object_sizes: Recorder::new(histogram::BYTES),
            ledger_failures: AtomicU64::default(),
        }
    }
}

/// Bytes stored through this layer (this process, since it started) in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketBytes {
    /// Bytes clients uploaded (objects the layer stored, as deltas or whole).
    pub original: u64,
    /// Bytes the layer wrote for them: deltas, whole objects and the references the
    /// uploads made.
    pub stored: u64,
}

/// A point-in-time copy of the layer's counters: what this process did since it started.
/// What the buckets hold, across restarts and instances, is the savings ledger's
/// (`/_deltaglider/api/savings`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Requests by S3 operation and HTTP status (0: the inner service failed).
    pub requests: Vec<(&'static str, u16, u64)>,
    /// Original and stored bytes by bucket.
    pub buckets: Vec<(String, BucketBytes)>,
    /// Objects stored as deltas.
    pub delta_puts: u64,
    /// Objects stored whole, by reason.
    pub whole_puts: Vec<(WholeReason, u64)>,
    /// Durations of encodes (and their verification), in seconds.
    pub encode: Histogram,
    /// Durations of reconstructions, in seconds.
    pub decode: Histogram,
    /// Bytes of originals encoded.
    pub encoded_bytes: u64,
    /// Bytes of originals reconstructed.
    pub decoded_bytes: u64,
    /// Sizes of the objects stored, in bytes.
    pub object_sizes: Histogram,
    /// Writes to the savings ledger that failed (the figures are off until reconciled).
    pub ledger_failures: u64,
    /// Reference cache.
    pub cache: CacheStats,
}

impl MetricsSnapshot {
    /// Bytes saved overall: original minus stored.
    pub fn bytes_saved(&self) -> u64 {
        self.buckets
            .iter()
            .map(|(_, b)| b.original.saturating_sub(b.stored))
            .sum()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Counters {
    pub(crate) fn request(&self, op: &'static str, status: u16) {
        *lock(&self.requests).entry((op, status)).or_default() += 1;
    }

    fn bytes(&self, bucket: &str, original: u64, stored: u64) {
        let mut buckets = lock(&self.buckets);
        let entry = buckets.entry(bucket.to_owned()).or_default();
        entry.original += original;
        entry.stored += stored;
        self.object_sizes.observe(original as f64);
    }

    /// An object of `original` bytes stored as a delta of `stored` bytes, with a new
    /// reference of `reference` bytes beside it (0: none).
    pub(crate) fn stored_delta(&self, bucket: &str, original: u64, stored: u64, reference: u64) {
        self.bytes(bucket, original, stored.saturating_add(reference));
        self.delta_puts.fetch_add(1, Ordering::Relaxed);
    }

    /// An object of `len` bytes stored whole, for `reason`.
    pub(crate) fn stored_whole(&self, bucket: &str, len: u64, reason: WholeReason) {
        self.bytes(bucket, len, len);
        *lock(&self.whole_puts).entry(reason).or_default() += 1;
    }

    /// An encode of `bytes` that took `micros`.
    pub(crate) fn encoded(&self, micros: u64, bytes: u64) {
        self.encode.observe(micros as f64 / 1e6);
        self.encoded_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A reconstruction of `bytes` that took `micros`.
    pub(crate) fn decoded(&self, micros: u64, bytes: u64) {
        self.decode.observe(micros as f64 / 1e6);
        self.decoded_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A journal entry of the savings ledger that could not be written.
    pub(crate) fn ledger_failed(&self) {
        self.ledger_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, cache: CacheStats) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: lock(&self.requests)
                .iter()
                .map(|(&(op, status), &n)| (op, status, n))
                .collect(),
            buckets: lock(&self.buckets)
                .iter()
                .map(|(b, bytes)| (b.clone(), *bytes))
                .collect(),
            delta_puts: self.delta_puts.load(Ordering::Relaxed),
            whole_puts: {
                let whole = lock(&self.whole_puts);
                WholeReason::ALL
                    .iter()
                    .map(|r| (*r, whole.get(r).copied().unwrap_or(0)))
                    .collect()
            },
            encode: self.encode.snapshot(),
            decode: self.decode.snapshot(),
            encoded_bytes: self.encoded_bytes.load(Ordering::Relaxed),
            decoded_bytes: self.decoded_bytes.load(Ordering::Relaxed),
            object_sizes: self.object_sizes.snapshot(),
            ledger_failures: self.ledger_failures.load(Ordering::Relaxed),
            cache,
        }
    }
}

/// Measures elapsed time where the platform has a monotonic clock (not wasm32, where
/// `Instant` is unavailable: durations there read 0).
pub(crate) struct Stopwatch {
    #[cfg(not(target_arch = "wasm32"))]
    start: std::time::Instant,
}

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(not(target_arch = "wasm32"))]
            start: std::time::Instant::now(),
        }
    }

    pub(crate) fn micros(&self) -> u64 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.start.elapsed().as_micros() as u64
        }
        #[cfg(target_arch = "wasm32")]
        {
            0
        }
    }
}
