use std::sync::Arc;

use tower_layer::Layer;

use super::service::Delta;
use crate::state::cache::CacheStats;
use crate::state::config::DeltaConfig;
use crate::state::metrics::MetricsSnapshot;
use crate::state::shared::Shared;

/// A tower [`Layer`] that stores eligible objects as deltas in the inner S3 service.
///
/// ```
/// use deltaglider::{DeltaConfig, DeltaLayer};
/// use tower::ServiceBuilder;
/// # let inner = tower::service_fn(|_: http::Request<deltaglider::RequestBody<String>>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
/// let service = ServiceBuilder::new()
///     .layer(DeltaLayer::new(DeltaConfig::default().max_delta_ratio(0.4)))
///     .service(inner);
/// # let _ = service;
/// ```
#[derive(Debug, Clone)]
pub struct DeltaLayer {
    shared: Arc<Shared>,
}

impl DeltaLayer {
    /// A layer with this configuration and an empty reference cache.
    // On wasm32 (one thread) the shared parts need not be Send or Sync; Arc keeps one type
    // for both targets.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn new(config: DeltaConfig) -> Self {
        Self {
            shared: Arc::new(Shared::new(config)),
        }
    }

    /// The layer's counters: requests, bytes, decisions, codec time, cache.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.counters.snapshot(self.shared.cache.stats())
    }

    /// Reference cache hits, misses and size.
    pub fn cache_stats(&self) -> CacheStats {
        self.shared.cache.stats()
    }
}

impl<S> Layer<S> for DeltaLayer {
    type Service = Delta<S>;

    fn layer(&self, inner: S) -> Delta<S> {
        Delta::from_shared(inner, Arc::clone(&self.shared))
    }
}
