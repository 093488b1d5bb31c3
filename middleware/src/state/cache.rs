//! Byte-bounded caches: of references (immutable, so entries never go stale) and of gzip
//! archives rebuilt from payload deltas (keyed with the object's SHA-256, so an overwritten
//! object is never answered from a stale entry). The least recently used entries are
//! dropped to stay within each bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use deltaglider_codec::{Sha256Digest, Sketch, WindowIndex};

/// A reference body (materialised, when it is stored as a delta of an older reference)
/// and its verified SHA-256.
#[derive(Debug, Clone)]
pub(crate) struct CachedRef {
    pub(crate) bytes: Bytes,
    pub(crate) sha256: Sha256Digest,
    /// Where it sits in its chain of references.
    pub(crate) link: Link,
    /// Computed on first use, shared by every copy of this entry.
    sketch: Arc<OnceLock<Sketch>>,
    /// The decompressed payload of a container reference, inflated on first use (`None`: not
    /// gzip, corrupt, or larger than the bound it was asked with), and its sketch, computed
    /// only when a PUT compares with it.
    payload: Arc<OnceLock<Option<Bytes>>>,
    payload_sketch: Arc<OnceLock<Option<Sketch>>>,
}

/// A reference's place in its chain (FORMAT.md section 14): stored whole, or as a delta of
/// an older reference of its deltaspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Link {
    /// The reference it is stored as a delta of (`None`: stored whole).
    pub(crate) base: Option<String>,
    /// Its `dg-ref-seq`: 0 when whole; picks the base of a reference chained onto it.
    pub(crate) seq: u64,
    /// How many deltas lie between it and a whole reference.
    pub(crate) depth: u32,
}

impl CachedRef {
    /// A reference stored whole.
    pub(crate) fn new(bytes: Bytes, sha256: Sha256Digest) -> Self {
        Self::linked(bytes, sha256, Link::default())
    }

    /// A reference with its place in a chain.
    pub(crate) fn linked(bytes: Bytes, sha256: Sha256Digest, link: Link) -> Self {
        Self {
            bytes,
            sha256,
            link,
            sketch: Arc::default(),
            payload: Arc::default(),
            payload_sketch: Arc::default(),
        }
    }

    /// The reference's similarity sketch.
    pub(crate) fn sketch(&self) -> &Sketch {
        self.sketch.get_or_init(|| Sketch::of(&self.bytes))
    }

    /// The memory this entry may hold: its bytes, plus — for a container reference, whose
    /// payload may be inflated beside it — the payload size it declares, known before the
    /// payload is.
    fn memory(&self) -> u64 {
        let bytes = self.bytes.len() as u64;
        bytes + crate::stored::payload::declared_payload_size(&self.bytes).unwrap_or(0)
    }

    /// The decompressed payload of a container reference, at most `max` bytes. CPU-heavy on
    /// first use: call it off the executor.
    pub(crate) fn payload(&self, max: u64) -> Option<&Bytes> {
        self.payload
            .get_or_init(|| {
                let max = usize::try_from(max).unwrap_or(usize::MAX);
                crate::stored::payload::inflate(&self.bytes, max).map(Bytes::from)
            })
            .as_ref()
    }

    /// The similarity sketch of [`payload`](Self::payload). CPU-heavy on first use.
    pub(crate) fn payload_sketch(&self, max: u64) -> Option<&Sketch> {
        self.payload_sketch
            .get_or_init(|| self.payload(max).map(|p| Sketch::of(p)))
            .as_ref()
    }
}

/// What a cache entry counts against its cache's bound.
pub(crate) trait Weigh: Clone {
    /// Bytes of memory the entry holds.
    fn weight(&self) -> u64;
}

impl Weigh for CachedRef {
    fn weight(&self) -> u64 {
        self.memory()
    }
}

/// An object rebuilt from a payload delta, verified, with the SHA-256 it was verified
/// against.
#[derive(Debug, Clone)]
pub(crate) struct Rebuilt {
    pub(crate) bytes: Bytes,
    pub(crate) sha256: Sha256Digest,
}

impl Weigh for Rebuilt {
    fn weight(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// The window index of a large stored delta, with the ETag of the stored delta it was
/// built from (an entry for another ETag is stale).
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    pub(crate) etag: String,
    pub(crate) index: Arc<WindowIndex>,
}

impl Weigh for Indexed {
    fn weight(&self) -> u64 {
        (self.index.memory() + self.etag.len()) as u64
    }
}

#[derive(Debug)]
struct Entries<V> {
    map: HashMap<(String, String), (V, u64)>,
    bytes: u64,
    clock: u64,
}

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            bytes: 0,
            clock: 0,
        }
    }
}

/// Hit and miss counts and size of the reference cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Lookups served from memory.
    pub hits: u64,
    /// Lookups that had to fetch.
    pub misses: u64,
    /// Bytes held.
    pub bytes: u64,
}

/// A least-recently-used cache keyed by (bucket, key), bounded in bytes.
#[derive(Debug)]
pub(crate) struct Lru<V> {
    max_bytes: u64,
    entries: Mutex<Entries<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The reference cache.
pub(crate) type RefCache = Lru<CachedRef>;

/// Archives rebuilt from payload deltas.
pub(crate) type RebuiltCache = Lru<Rebuilt>;

/// Window indexes of large stored deltas, keyed by the stored delta's key.
pub(crate) type IndexCache = Lru<Indexed>;

impl<V: Weigh> Lru<V> {
    pub(crate) fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            entries: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<V> {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let found = entries
            .map
            .get_mut(&(bucket.to_owned(), key.to_owned()))
            .map(|(r, used)| {
                *used = now;
                r.clone()
            });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub(crate) fn insert(&self, bucket: &str, key: &str, value: V) {
        let size = value.weight();
        if size > self.max_bytes {
            return;
        }
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if let Some((old, _)) = entries
            .map
            .insert((bucket.to_owned(), key.to_owned()), (value, now))
        {
            entries.bytes -= old.weight();
        }
        entries.bytes += size;
        while entries.bytes > self.max_bytes {
            let Some(oldest) = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((gone, _)) = entries.map.remove(&oldest) {
                entries.bytes -= gone.weight();
            }
        }
    }

    pub(crate) fn remove(&self, bucket: &str, key: &str) {
        let mut entries = self.lock();
        if let Some((gone, _)) = entries.map.remove(&(bucket.to_owned(), key.to_owned())) {
            entries.bytes -= gone.weight();
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.lock().bytes,
        }
    }
}

/// Original size and ETag of stored deltas, keyed by the stored object's version (its ETag,
/// or modification time and size), so an overwritten delta is never answered from a stale
/// entry.
#[derive(Debug, Default)]
pub(crate) struct OriginalsCache {
    entries: Mutex<OriginalsMap>,
}

/// (bucket, stored key, stored ETag) → (original size, original ETag).
type OriginalsMap = HashMap<(String, String, String), (u64, String)>;

/// Entries kept before the originals cache starts over.
const MAX_ORIGINALS: usize = 100_000;

impl OriginalsCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, OriginalsMap> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn get(&self, bucket: &str, key: &str, stored_etag: &str) -> Option<(u64, String)> {
        self.lock()
            .get(&(bucket.to_owned(), key.to_owned(), stored_etag.to_owned()))
            .cloned()
    }

    pub(crate) fn insert(
        &self,
        bucket: &str,
        key: &str,
        stored_etag: &str,
        original: (u64, String),
    ) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ORIGINALS {
            entries.clear();
        }
        entries.insert(
            (bucket.to_owned(), key.to_owned(), stored_etag.to_owned()),
            original,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltaglider_codec::Sha256;

    fn r(n: usize) -> CachedRef {
        let bytes = Bytes::from(vec![n as u8; n]);
        CachedRef::new(bytes.clone(), Sha256::digest(&bytes))
    }

    #[test]
    fn evicts_least_recently_used_within_the_bound() {
        let cache = RefCache::new(100);
        cache.insert("b", "a", r(40));
        cache.insert("b", "c", r(40));
        assert!(cache.get("b", "a").is_some()); // a is now newer than c
        cache.insert("b", "d", r(40));
        assert!(cache.get("b", "c").is_none());
        assert!(cache.get("b", "a").is_some() && cache.get("b", "d").is_some());
        cache.insert("b", "huge", r(101));
        assert!(cache.get("b", "huge").is_none());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.bytes), (3, 2, 80));
    }
}
