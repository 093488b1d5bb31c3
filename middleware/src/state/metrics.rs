//! Counters the host exports (the standalone proxy renders them for Prometheus).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::state::cache::CacheStats;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    buckets: Mutex<BTreeMap<String, BucketBytes>>,
    delta_puts: AtomicU64,
    direct_puts: AtomicU64,
    encode_micros: AtomicU64,
    encodes: AtomicU64,
    decode_micros: AtomicU64,
    decodes: AtomicU64,
}

/// Bytes stored through the layer in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketBytes {
    /// Bytes clients uploaded (objects the layer stored, as deltas or whole).
    pub original: u64,
    /// Bytes the layer wrote for them (deltas, or the whole object).
    pub stored: u64,
}

/// A point-in-time copy of the layer's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Requests by S3 operation and HTTP status (0: the inner service failed).
    pub requests: Vec<(&'static str, u16, u64)>,
    /// Original and stored bytes by bucket.
    pub buckets: Vec<(String, BucketBytes)>,
    /// Objects stored as deltas.
    pub delta_puts: u64,
    /// Eligible objects stored whole (delta not small enough).
    pub direct_puts: u64,
    /// Total time spent encoding (and verifying) deltas, in seconds, and how many.
    pub encode_seconds: f64,
    /// Number of encodes.
    pub encodes: u64,
    /// Total time spent reconstructing objects, in seconds.
    pub decode_seconds: f64,
    /// Number of reconstructions.
    pub decodes: u64,
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

    pub(crate) fn stored(&self, bucket: &str, original: u64, stored: u64, delta: bool) {
        let mut buckets = lock(&self.buckets);
        let entry = buckets.entry(bucket.to_owned()).or_default();
        entry.original += original;
        entry.stored += stored;
        let counter = if delta {
            &self.delta_puts
        } else {
            &self.direct_puts
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn encoded(&self, micros: u64) {
        self.encode_micros.fetch_add(micros, Ordering::Relaxed);
        self.encodes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn decoded(&self, micros: u64) {
        self.decode_micros.fetch_add(micros, Ordering::Relaxed);
        self.decodes.fetch_add(1, Ordering::Relaxed);
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
            direct_puts: self.direct_puts.load(Ordering::Relaxed),
            encode_seconds: self.encode_micros.load(Ordering::Relaxed) as f64 / 1e6,
            encodes: self.encodes.load(Ordering::Relaxed),
            decode_seconds: self.decode_micros.load(Ordering::Relaxed) as f64 / 1e6,
            decodes: self.decodes.load(Ordering::Relaxed),
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
