//! The state every clone of the layer and its services shares.

use super::cache::{IndexCache, OriginalsCache, RebuiltCache, RefCache};
use super::config::DeltaConfig;
use super::hints::Hints;
use super::metrics::Counters;

/// Memory the window indexes of large deltas may hold: about 24 bytes per window, so
/// thousands of multi-GiB objects' indexes.
const INDEX_CACHE_BYTES: u64 = 32 << 20;

/// State shared by every clone of the layer and its services: configuration and caches.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: DeltaConfig,
    pub(crate) cache: RefCache,
    pub(crate) rebuilt: RebuiltCache,
    /// Window indexes of large deltas, so a range GET reads only its windows.
    pub(crate) indexes: IndexCache,
    pub(crate) originals: OriginalsCache,
    pub(crate) counters: Counters,
    pub(crate) hints: Hints,
}

impl Shared {
    /// The state of a new layer: this configuration, empty caches and counters.
    pub(crate) fn new(config: DeltaConfig) -> Self {
        let cache = RefCache::new(config.cache_bytes);
        let rebuilt = RebuiltCache::new(config.rebuilt_cache_bytes);
        Self {
            config,
            cache,
            rebuilt,
            indexes: IndexCache::new(INDEX_CACHE_BYTES),
            originals: OriginalsCache::default(),
            counters: Counters::default(),
            hints: Hints::default(),
        }
    }
}
