//! The [`SigV4Layer`].

use std::sync::Arc;

use tower_layer::Layer;

use super::config::SigV4Config;
use super::refusal::Refusals;
use super::service::SigV4;

/// A tower [`Layer`] that verifies the AWS Signature Version 4 of each request before the
/// inner service sees it (see [the module docs](super)).
///
/// ```
/// use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
/// use deltaglider::{DeltaConfig, DeltaLayer, IngestLayer};
/// use tower::ServiceBuilder;
/// # let inner = tower::service_fn(|_: http::Request<deltaglider::RequestBody<
/// #     deltaglider::ingest::IngestBody<String>>>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
/// let keys = StaticCredentials::new().with("AKIDEXAMPLE", "secret");
/// let service = ServiceBuilder::new()
///     .layer(SigV4Layer::new(SigV4Config::new(keys)))
///     .layer(IngestLayer::new())
///     .layer(DeltaLayer::new(DeltaConfig::default()))
///     .service(inner);
/// # let _ = service;
/// ```
#[derive(Debug, Clone)]
pub struct SigV4Layer {
    config: Arc<SigV4Config>,
    refusals: Refusals,
}

impl SigV4Layer {
    /// A layer with this configuration.
    // On wasm32 (one thread) the shared parts need not be Send or Sync; Arc keeps one type
    // for both targets.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn new(config: SigV4Config) -> Self {
        Self {
            config: Arc::new(config),
            refusals: Refusals::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SigV4Config {
        &self.config
    }

    /// How many requests were refused, by reason: every reason, in a fixed order, with
    /// its count (zero included), for a metric such as
    /// `auth_failures_total{reason="…"}`. The count is shared by this layer, its clones
    /// and every service they made.
    ///
    /// The reasons: `signature_mismatch` (403 `SignatureDoesNotMatch`),
    /// `unknown_access_key` (403 `InvalidAccessKeyId`), `request_expired` (a presigned URL
    /// past its expiry), `clock_skew` (403 `RequestTimeTooSkewed`, or a presigned URL
    /// dated in the future), `unsigned` (no authentication, and anonymous requests are
    /// refused), `unsigned_headers` (`x-amz-*` headers left out of the signature),
    /// `malformed` (an authentication header, query or form that cannot be read; a
    /// missing or invalid date), `unsupported` (another algorithm, SigV4A), and
    /// `policy_denied` (a browser upload's policy expired or not met). Each refusal is
    /// also logged once, at WARN, with the access key id the request named (never its
    /// secret nor its signature), and its answer carries a
    /// [`Refusal`](super::Refusal). Body failures (chunk signatures, hashes) are the
    /// [`IngestLayer`](crate::IngestLayer)'s, not counted here.
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        self.refusals.snapshot()
    }
}

impl<S> Layer<S> for SigV4Layer {
    type Service = SigV4<S>;

    fn layer(&self, inner: S) -> SigV4<S> {
        SigV4::from_shared(inner, Arc::clone(&self.config), self.refusals.clone())
    }
}

impl<S> SigV4<S> {
    /// A [`SigV4Layer`] with this configuration.
    pub fn layer(config: SigV4Config) -> SigV4Layer {
        SigV4Layer::new(config)
    }
}

#[cfg(test)]
mod tests;
