//! The [`Ingest`] service.

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::answer::{error_response, settle};
use super::body::IngestBody;
use super::prepare::{Prepared, prepare};
use crate::body::{BoxError, Either, ResponseBody};
use crate::compat::MaybeSend;
use crate::future::ResponseFuture;

/// The service [`IngestLayer`](super::IngestLayer) wraps around an inner service: decodes and verifies each
/// request body, answering failures itself with S3 XML errors.
#[derive(Debug, Clone)]
pub struct Ingest<S> {
    inner: S,
    buffer_limit: u64,
}

impl<S> Ingest<S> {
    /// Wraps `inner`, reading and verifying bodies of up to `buffer_limit` bytes before
    /// calling it (see [`IngestLayer::buffer_limit`](super::IngestLayer::buffer_limit)).
    pub fn new(inner: S, buffer_limit: u64) -> Self {
        Self {
            inner,
            buffer_limit,
        }
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

impl<S, B, RB> Service<Request<B>> for Ingest<S>
where
    S: Service<Request<IngestBody<B>>, Response = Response<RB>> + Clone + MaybeSend + 'static,
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
        // The body may be read before the inner service is called: call the service that
        // was made ready, and leave a clone for the next request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limit = self.buffer_limit;
        let (parts, body) = request.into_parts();
        ResponseFuture::new(Box::pin(async move {
            match prepare(parts, body, limit).await {
                Prepared::Refused(error) => Ok(error_response(&error)),
                Prepared::Read(parts, data) => {
                    let request = Request::from_parts(parts, IngestBody::buffered(data));
                    let response = inner.call(request).await?;
                    Ok(response.map(Either::passthrough))
                }
                Prepared::Streaming(parts, body, slot) => {
                    let result = inner.call(Request::from_parts(parts, body)).await;
                    settle(result, &slot)
                }
            }
        }))
    }
}
