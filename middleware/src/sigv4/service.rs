//! The [`SigV4`] service and its response future.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::auth::authenticate;
use super::config::SigV4Config;
use super::post;
use super::query_auth;
use super::refusal::{self, Refusals, Refused};
use crate::body::{BoxError, Either, RequestBody, ResponseBody};
use crate::compat::MaybeSend;
use crate::future::ResponseFuture;
use crate::s3::error::S3Error;

/// The service [`SigV4Layer`](super::SigV4Layer) wraps around an inner service: verifies each request's
/// signature and answers failures itself with S3 XML errors.
///
/// A verified request reaches the inner service as the plain request it stands for:
/// without its `Authorization` and `x-amz-security-token` headers, and without the
/// signature parameters of a presigned URL (whatever is behind rewrites requests, so the
/// client's signature must not travel on, and a backend that checks signatures would try
/// to check them again); with the `x-amz-*` headers a presigned SigV4 URL carries in its
/// query as headers, a [`Principal`](super::Principal) in its extensions, and its body
/// unchanged: what the signature says of the body (its SHA-256, or the chunk-signing
/// material of a signed `aws-chunked` body) travels in the extensions too, for the
/// [`Ingest`](crate::ingest::Ingest) layer behind to check. A browser upload (POST Object)
/// reaches it as the PutObject it stands for, its file part as the body.
///
/// An anonymous request (allowed by [`SigV4Config::allow_anonymous`]) passes unchanged and
/// without a `Principal`: whatever is behind must treat it as anonymous, never as the
/// proxy's own.
#[derive(Debug, Clone)]
pub struct SigV4<S> {
    inner: S,
    config: Arc<SigV4Config>,
    refusals: Refusals,
}

impl<S> SigV4<S> {
    /// Wraps `inner`.
    // On wasm32 (one thread) the shared parts need not be Send or Sync; Arc keeps one type
    // for both targets.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn new(inner: S, config: SigV4Config) -> Self {
        Self::from_shared(inner, Arc::new(config), Refusals::default())
    }

    pub(crate) fn from_shared(inner: S, config: Arc<SigV4Config>, refusals: Refusals) -> Self {
        Self {
            inner,
            config,
            refusals,
        }
    }

    /// How many requests this service, its clones (and the other services of the
    /// [`SigV4Layer`](super::SigV4Layer) that made it) refused, by reason: see
    /// [`SigV4Layer::refusals`](super::SigV4Layer::refusals).
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        self.refusals.snapshot()
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

impl<S, B, RB> Service<Request<B>> for SigV4<S>
where
    S: Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone + MaybeSend + 'static,
    S::Future: MaybeSend + 'static,
    S::Error: MaybeSend + 'static,
    B: Body<Data = Bytes> + MaybeSend + 'static,
    B::Error: Into<BoxError>,
    RB: MaybeSend + 'static,
{
    type Response = Response<ResponseBody<RB>>;
    type Error = S::Error;
    type Future = ResponseFuture<RB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        if post::is_post_object(&parts) && !parts.headers.contains_key(http::header::AUTHORIZATION)
        {
            return self.post_object(parts, body);
        }
        let verified = match authenticate(&self.config, &parts) {
            Ok(verified) => verified,
            Err(error) => {
                let access_key = refusal::access_key(&parts.headers, &parts.uri);
                let refused = Refused {
                    method: &parts.method,
                    uri: &parts.uri,
                    access_key: access_key.as_deref(),
                    post: false,
                };
                let response = error_response(&self.refusals, &refused, &error);
                return ResponseFuture::new(Box::pin(async move { Ok(response) }));
            }
        };
        let Some(verified) = verified else {
            // Anonymous, and allowed: untouched.
            return self.forward(Request::from_parts(parts, Either::passthrough(body)));
        };
        parts.headers.remove(http::header::AUTHORIZATION);
        parts.headers.remove("x-amz-security-token");
        if let Some(scheme) = verified.query_auth {
            parts.uri = query_auth::strip(&parts.uri, &mut parts.headers, scheme);
        }
        parts.extensions.insert(verified.principal);
        if let Some(payload) = verified.payload {
            parts.extensions.insert(payload);
        }
        self.forward(Request::from_parts(parts, Either::passthrough(body)))
    }
}

impl<S> SigV4<S> {
    /// A browser upload: the form is read and verified, then sent inward as a PutObject.
    fn post_object<B, RB>(
        &mut self,
        parts: http::request::Parts,
        body: B,
    ) -> ResponseFuture<RB, S::Error>
    where
        S: Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone + MaybeSend + 'static,
        S::Future: MaybeSend + 'static,
        S::Error: MaybeSend + 'static,
        B: Body<Data = Bytes> + MaybeSend + 'static,
        B::Error: Into<BoxError>,
        RB: MaybeSend + 'static,
    {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        let refusals = self.refusals.clone();
        ResponseFuture::new(Box::pin(async move {
            let (method, uri) = (parts.method.clone(), parts.uri.clone());
            let mut access_key = None;
            let upload = match post::read(&config, parts, body, &mut access_key).await {
                Ok(upload) => upload,
                Err(error) => {
                    let refused = Refused {
                        method: &method,
                        uri: &uri,
                        access_key: access_key.as_deref(),
                        post: true,
                    };
                    return Ok(error_response(&refusals, &refused, &error));
                }
            };
            let request = Request::from_parts(upload.parts, Either::full(upload.body));
            let response = inner.call(request).await?;
            Ok(upload.reply.respond(response))
        }))
    }

    fn forward<B, RB>(&mut self, request: Request<RequestBody<B>>) -> ResponseFuture<RB, S::Error>
    where
        S: Service<Request<RequestBody<B>>, Response = Response<RB>>,
        S::Future: MaybeSend + 'static,
        RB: 'static,
    {
        let call = self.inner.call(request);
        ResponseFuture::new(Box::pin(async move {
            call.await.map(|r| r.map(Either::passthrough))
        }))
    }
}

/// The answer to a refused request: logged, counted and marked with a
/// [`Refusal`](super::Refusal) when it is an authentication failure.
fn error_response<RB>(
    refusals: &Refusals,
    refused: &Refused<'_>,
    error: &S3Error,
) -> Response<ResponseBody<RB>> {
    let mut response = error.to_response().map(Either::full);
    if let Some(refusal) = refusals.record(refused, error) {
        response.extensions_mut().insert(refusal);
    }
    response
}
