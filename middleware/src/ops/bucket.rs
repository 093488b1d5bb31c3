//! DeleteBucket: S3 deletes only an empty bucket. A bucket whose clients see nothing
//! may still hold the layer's own objects (unused references, the savings ledger): they go
//! first, then the bucket. One that holds objects is refused `BucketNotEmpty` here, before
//! the backend sees the request — whatever the backend would do (s3s-fs deletes a full
//! bucket's directory).

use bytes::Bytes;
use http::{Method, Request, StatusCode, request::Parts};

use crate::body::{Either, RequestBody};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::{Stop, pass_error};
use crate::ledger::summary::list_all;
use crate::s3::error::S3Error;
use crate::s3::listing;
use crate::stored::keys::{self, LEDGER_PREFIX};

/// Handles DeleteBucket.
pub(crate) async fn delete_bucket<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call { inner, bucket, .. } = call;
    let page = first_page(call).await?;
    let Some(page) = page else {
        // No such bucket, or one the client may not list: the backend answers.
        let response = inner
            .send(Request::from_parts(parts, body))
            .await
            .map_err(Stop::Inner)?;
        return Ok(response.map(Either::passthrough));
    };
    if page.objects.iter().any(|o| !layer_own(&o.key)) || page.truncated && !all_own(call).await? {
        return Err(S3Error::new(
            "BucketNotEmpty",
            StatusCode::CONFLICT,
            "The bucket you tried to delete is not empty",
        )
        .resource(bucket)
        .into());
    }
    for key in list_all(call, "").await? {
        if layer_own(&key) {
            inner.remove_stored(bucket, &key).await?;
        }
    }
    let response = inner
        .send(Request::from_parts(parts, body))
        .await
        .map_err(Stop::Inner)?;
    Ok(response.map(Either::passthrough))
}

/// A key the layer writes for itself (a reference, the ledger), never a client's object.
fn layer_own(key: &str) -> bool {
    keys::is_reference(key) || key.starts_with(LEDGER_PREFIX)
}

/// The first page of the bucket's listing; `None` when the backend refuses it (404, 403).
async fn first_page<T: Backend>(call: Call<'_, T>) -> Result<Option<listing::Page>, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let listed = inner
        .fetch(
            inner.request(Method::GET, bucket, "", "list-type=2&max-keys=1000"),
            Bytes::new(),
            64 << 20,
        )
        .await?;
    if listed.status.is_client_error() {
        return Ok(None);
    }
    if !listed.status.is_success() {
        return Err(pass_error(listed));
    }
    Ok(Some(listing::parse(&listed.body)?))
}

/// Whether every key of the bucket is the layer's own.
async fn all_own<T: Backend>(call: Call<'_, T>) -> Result<bool, Stopped<T>> {
    Ok(list_all(call, "").await?.iter().all(|k| layer_own(k)))
}
