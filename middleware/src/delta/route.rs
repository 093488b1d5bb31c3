//! Where a request goes: the operations the layer handles get a [`Call`] and their
//! module in [`crate::ops`]; everything else goes to the inner service untouched.

use std::sync::Arc;

use http::request::Parts;
use http::{Request, Response};
use tower_service::Service;

use crate::body::{Either, RequestBody, ResponseBody};
use crate::call::{Backend, Call, Failure, Outcome};
use crate::inner::{Inner, Stop};
use crate::ops::versions::{self, Versions};
use crate::ops::{bucket, copy, delete, get, list, multipart, own_hidden, put, savings};
use crate::s3::error::S3Error;
use crate::s3::op::{S3Op, S3OpKind};
use crate::state::shared::Shared;
use crate::stored::keys;

/// Serves one request whose body is plain and verified (or fails before its end).
pub(super) async fn serve<T: Backend>(
    shared: Arc<Shared>,
    ready: T::Service,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Result<Response<ResponseBody<T::Reply>>, Failure<T>> {
    if parts.uri.path().starts_with(savings::PATH) {
        let inner = Inner::new(ready, &parts).with_clock(shared.config.clock.clone());
        let call = Call::<T>::new(&shared, &inner, "", "");
        return answered::<T>(savings::serve(call, &parts).await);
    }
    let op = S3Op::from_request(&parts);
    let query = parts.uri.query().unwrap_or("");
    if let Some(bucket) = op.bucket.as_deref().filter(|_| {
        op.kind == S3OpKind::Forward
            && op.key.is_none()
            && parts.method == http::Method::GET
            && own_hidden::is_forwarded_listing(query)
    }) {
        let inner = Inner::new(ready, &parts).with_clock(shared.config.clock.clone());
        let call = Call::<T>::new(&shared, &inner, bucket, "");
        let result = answered::<T>(own_hidden::listing(call, query).await);
        let status = result.as_ref().map_or(0, |r| r.status().as_u16());
        shared.counters.request(op.kind.name(), status);
        return result;
    }
    let key = op.key.clone().unwrap_or_default();
    let versions = versions::classify(&shared.config, op.kind, &key, &parts);
    let forward = matches!(versions, Versions::Forward);
    let Some(bucket) = op.bucket.filter(|_| handled(op.kind) && !forward) else {
        // The ready service serves it, as it was polled ready for this request.
        let mut ready = ready;
        let kind = op.kind.name();
        let response = ready.call(Request::from_parts(parts, body)).await?;
        shared.counters.request(kind, response.status().as_u16());
        return Ok(response.map(Either::passthrough));
    };
    let result = match refused(&key, versions) {
        Some(error) => Ok(error.to_response().map(Either::full)),
        None => {
            let inner = Inner::new(ready, &parts).with_clock(shared.config.clock.clone());
            let call = Call::<T>::new(&shared, &inner, &bucket, &key);
            answered::<T>(dispatch(call, op.kind, parts, body).await)
        }
    };
    let status = result.as_ref().map_or(0, |r| r.status().as_u16());
    shared.counters.request(op.kind.name(), status);
    result
}

/// A handled request's response, its early answer, or the inner service's failure.
fn answered<T: Backend>(
    outcome: Outcome<T>,
) -> Result<Response<ResponseBody<T::Reply>>, Failure<T>> {
    match outcome {
        Ok(response) => Ok(response),
        Err(Stop::Reply(response)) => Ok(*response),
        Err(Stop::Inner(error)) => Err(error),
    }
}

/// The operations the layer handles (for eligible keys, or all keys of a bucket);
/// everything else is forwarded untouched.
fn handled(kind: S3OpKind) -> bool {
    matches!(
        kind,
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
            | S3OpKind::DeleteBucket
    )
}

/// Refused before any backend call: a key S3 would not take, a version the format does
/// not keep.
fn refused(key: &str, versions: Versions) -> Option<S3Error> {
    match (keys::check_key_length(key), versions) {
        (Err(too_long), _) => Some(S3Error::from(too_long).resource(key)),
        (Ok(()), Versions::Refuse(refusal)) => Some(refusal),
        _ => None,
    }
}

/// The operation's module for a handled request.
async fn dispatch<T: Backend>(
    call: Call<'_, T>,
    kind: S3OpKind,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    match kind {
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
        S3OpKind::DeleteBucket => bucket::delete_bucket(call, parts, body).await,
        // CreateMultipartUpload, UploadPart, AbortMultipartUpload, ListParts.
        _ => multipart::checked_forward(call, parts, body).await,
    }
}
