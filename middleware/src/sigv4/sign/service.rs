//! The [`Sign`] service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::SignConfig;
use super::future::ResponseFuture;
use super::signer;
use crate::body::Either;
use crate::sigv4::Principal;

/// The service [`SignLayer`](super::SignLayer) wraps around an inner service (an HTTP client to the
/// backend): signs each request it is to sign (see [the module
/// docs](super#whose-requests-are-signed)) and passes the others on unchanged.
///
/// A request that cannot be signed is answered with an S3 XML error, without calling the
/// inner service; the inner service's responses pass through as
/// [`Either::passthrough`].
#[derive(Debug, Clone)]
pub struct Sign<S> {
    inner: S,
    config: Arc<SignConfig>,
}

impl<S> Sign<S> {
    /// Wraps `inner`.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn new(inner: S, config: SignConfig) -> Self {
        Self::from_shared(inner, Arc::new(config))
    }

    pub(super) fn from_shared(inner: S, config: Arc<SignConfig>) -> Self {
        Self { inner, config }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, RB> Service<Request<B>> for Sign<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    B: Body,
{
    type Response = Response<Either<RB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let signs = self.config.sign_anonymous || request.extensions().get::<Principal>().is_some();
        if signs && let Err(error) = signer::sign(&self.config, &mut request) {
            tracing::debug!(
                code = error.code(),
                message = error.message(),
                "cannot sign the backend request"
            );
            return ResponseFuture::refused(error.to_response().map(Either::full));
        }
        ResponseFuture::inner(self.inner.call(request))
    }
}
