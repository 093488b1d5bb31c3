//! The state every clone of the layer and its services shares.

use super::cache::{OriginalsCache, RebuiltCache, RefCache};
use super::config::DeltaConfig;
use super::hints::Hints;
use super::metrics::Counters;

/// State shared by every clone of the layer and its services: configuration and caches.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: DeltaConfig,
    pub(crate) cache: RefCache,
    pub(crate) rebuilt: RebuiltCache,
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
            originals: OriginalsCache::default(),
            counters: Counters::default(),
            hints: Hints::default(),
        }
    }
}
