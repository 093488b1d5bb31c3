use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::BodyExt;
use tower_service::Service;

use super::ResponseFuture;
use crate::body::{BoxError, Either, RequestBody, ResponseBody, Streamed};
use crate::call::{Bound, Call};
use crate::compat::MaybeSend;
use crate::ingest::{self, DEFAULT_BUFFER_LIMIT, Ingested, Prepared};
use crate::inner::{Inner, Stop};
use crate::ops::copy;
use crate::ops::delete;
use crate::ops::get;
use crate::ops::list;
use crate::ops::multipart;
use crate::ops::put;
use crate::ops::versions::{self, Versions};
use crate::s3::op::{S3Op, S3OpKind};
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
                return serve(shared, ready, parts, Either::passthrough(body)).await;
            }
            // Not behind an IngestLayer: the same ingest here, so that no framing is ever
            // forwarded as data and no unverified body is stored.
            match ingest::prepare(parts, body, DEFAULT_BUFFER_LIMIT).await {
                Prepared::Refused(error) => Ok(error.to_response().map(Either::full)),
                Prepared::Read(parts, data) => {
                    serve(shared, ready, parts, Either::full(data)).await
                }
                Prepared::Streaming(parts, body, slot) => {
                    let len = body.size_hint().exact().unwrap_or_default();
                    let stream = body.into_data_stream();
                    let body = Either::streamed(Streamed::new(Box::pin(stream), len));
                    let result = serve(shared, ready, parts, body).await;
                    match slot.take() {
                        Some(error) => Ok(error.to_response().map(Either::full)),
                        None => result,
                    }
                }
            }
        }))
    }
}

/// Serves one request whose body is plain and verified (or fails before its end).
async fn serve<S, B, RB>(
    shared: Arc<Shared>,
    ready: S,
    parts: http::request::Parts,
    body: RequestBody<B>,
) -> Result<Response<ResponseBody<RB>>, S::Error>
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
    let op = S3Op::from_request(&parts);
    let handled = matches!(
        op.kind,
        S3OpKind::PutObject
            | S3OpKind::GetObject
            | S3OpKind::HeadObject
            | S3OpKind::DeleteObject
            | S3OpKind::ListObjectsV2
            | S3OpKind::ListObjects
            | S3OpKind::DeleteObjects
            | S3OpKind::CopyObject
            | S3OpKind::CreateMultipartUpload
            | S3OpKind::UploadPart
            | S3OpKind::CompleteMultipartUpload
            | S3OpKind::AbortMultipartUpload
            | S3OpKind::ListParts
    );
    let key = op.key.clone().unwrap_or_default();
    let versions = versions::classify(&shared.config, op.kind, &key, &parts);
    let forward = matches!(versions, Versions::Forward);
    let Some(bucket) = op.bucket.filter(|_| handled && !forward) else {
        let mut ready = ready;
        let response = ready.call(Request::from_parts(parts, body)).await?;
        return Ok(response.map(Either::passthrough));
    };
    // Refused before any backend call: a key S3 would not take, a version the format
    // does not keep.
    let refused = match (crate::stored::keys::check_key_length(&key), versions) {
        (Err(too_long), _) => Some(crate::S3Error::from(too_long).resource(key.clone())),
        (Ok(()), Versions::Refuse(refusal)) => Some(refusal),
        _ => None,
    };
    if let Some(error) = refused {
        let response = error.to_response().map(Either::full);
        shared
            .counters
            .request(op.kind.name(), response.status().as_u16());
        return Ok(response);
    }
    let inner = Inner::new(ready, &parts).with_clock(shared.config.clock.clone());
    let call = Call::<Bound<S, B, RB>>::new(&shared, &inner, &bucket, &key);
    let result = match op.kind {
        S3OpKind::PutObject => put::put(call, parts, body).await,
        S3OpKind::GetObject | S3OpKind::HeadObject => get::get_or_head(call, parts, body).await,
        S3OpKind::DeleteObject => delete::delete(call, parts, body).await,
        S3OpKind::DeleteObjects => delete::delete_many(call, parts, body).await,
        S3OpKind::CopyObject => copy::copy(call, parts, body).await,
        S3OpKind::ListObjectsV2 => list::list(call, parts, true).await,
        S3OpKind::ListObjects => list::list(call, parts, false).await,
        S3OpKind::UploadPart if parts.headers.contains_key("x-amz-copy-source") => {
            multipart::upload_part_copy(call, parts, body).await
        }
        S3OpKind::CompleteMultipartUpload => multipart::complete(call, parts, body).await,
        // CreateMultipartUpload, UploadPart, AbortMultipartUpload, ListParts.
        _ => multipart::checked_forward(call, parts, body).await,
    };
    let result = match result {
        Ok(response) => Ok(response),
        Err(Stop::Reply(response)) => Ok(*response),
        Err(Stop::Inner(error)) => Err(error),
    };
    let status = result.as_ref().map_or(0, |r| r.status().as_u16());
    shared.counters.request(op.kind.name(), status);
    result
}
