//! The [`SignLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use super::{Sign, SignConfig};

/// A tower [`Layer`] that signs each request with AWS Signature Version 4 before the inner
/// service (an HTTP client to the backend) sends it (see [the module docs](super)).
///
/// ```
/// use deltaglider::sigv4::{SignConfig, SignLayer};
/// use tower::ServiceBuilder;
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
/// let backend = ServiceBuilder::new()
///     .layer(SignLayer::new(SignConfig::new("AKIDEXAMPLE", "secret", "us-east-1")))
///     .service(client);
/// # let _ = backend;
/// ```
#[derive(Debug, Clone)]
pub struct SignLayer {
    config: Arc<SignConfig>,
}

impl SignLayer {
    /// A layer with this configuration.
    // On wasm32 (one thread) the shared parts need not be Send or Sync; Arc keeps one type
    // for both targets.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn new(config: SignConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SignConfig {
        &self.config
    }
}

impl<S> Layer<S> for SignLayer {
    type Service = Sign<S>;

    fn layer(&self, inner: S) -> Sign<S> {
        Sign::from_shared(inner, Arc::clone(&self.config))
    }
}
