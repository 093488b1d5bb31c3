use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::BodyExt;
use tower_service::Service;

use super::route::serve;
use crate::body::{BoxError, Either, RequestBody, ResponseBody, Streamed};
use crate::call::Bound;
use crate::compat::MaybeSend;
use crate::future::ResponseFuture;
use crate::ingest::{self, DEFAULT_BUFFER_LIMIT, Ingested, Prepared};
use crate::state::shared::Shared;

/// The service [`DeltaLayer`](super::DeltaLayer) wraps around an inner S3 service.
#[derive(Debug, Clone)]
pub struct Delta<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Delta<S> {
    pub(crate) fn from_shared(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
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

impl<S, B, RB> Service<Request<B>> for Delta<S>
where
    S: Service<Request<RequestBody<B>>, Response = Response<RB>>
        + Clone
        + MaybeSend
        + Sync
        + 'static,
    S::Future: MaybeSend + 'static,
    S::Error: MaybeSend + 'static,
    B: Body<Data = Bytes> + MaybeSend + 'static,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes> + MaybeSend + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<RB>>;
    type Error = S::Error;
    type Future = ResponseFuture<RB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (parts, body) = request.into_parts();
        // The ready service serves this request; later calls use clones of it.
        let ready = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, ready);
        let shared = Arc::clone(&self.shared);
        ResponseFuture::new(Box::pin(async move {
            if parts.extensions.get::<Ingested>().is_some() {
                return serve::<Bound<S, B, RB>>(shared, ready, parts, Either::passthrough(body))
                    .await;
            }
            // Not behind an IngestLayer: the same ingest here, so that no framing is ever
            // forwarded as data and no unverified body is stored.
            match ingest::prepare(parts, body, DEFAULT_BUFFER_LIMIT).await {
                Prepared::Refused(error) => Ok(error.to_response().map(Either::full)),
                Prepared::Read(parts, data) => {
                    serve::<Bound<S, B, RB>>(shared, ready, parts, Either::full(data)).await
                }
                Prepared::Streaming(parts, body, slot) => {
                    let len = body.size_hint().exact().unwrap_or_default();
                    let stream = body.into_data_stream();
                    let body = Either::streamed(Streamed::new(Box::pin(stream), len));
                    let result = serve::<Bound<S, B, RB>>(shared, ready, parts, body).await;
                    match slot.take() {
                        Some(error) => Ok(error.to_response().map(Either::full)),
                        None => result,
                    }
                }
            }
        }))
    }
}
