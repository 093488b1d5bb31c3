//! PutObject: the body of an eligible key is read whole and stored through the one store
//! path ([`store_bytes`]) — as a delta against its deltaspace's reference, or whole. Any
//! other key, and a body too large to encode, goes to the backend untouched.
//!
//! The store path serves CopyObject and multipart completion too. Its parts, top down:
//! [`store`] (the path itself), `encode` (the reference chosen, three ways to encode,
//! re-baselining, verification), `written` (the PUT with the kept headers and metadata),
//! [`cleanup`] (the older form and unused references removed after a write); beside them
//! [`admit`] (the checks every write passes, and forwarding what the layer leaves alone)
//! and `upload` (reading the body).

pub(crate) mod admit;
mod attempt;
pub(crate) mod cleanup;
mod encode;
pub(crate) mod large;
mod renewal;
pub(crate) mod store;
mod upload;
mod written;

use http::{HeaderMap, HeaderValue, Response, header, request::Parts};

use crate::body::{Either, RequestBody, Streamed};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::ledger::change;
use crate::ledger::figures::Figures;
use crate::s3::checksum;
use crate::s3::length::content_length;
use crate::state::metrics::WholeReason;
use crate::stored::meta::header_value;

use cleanup::drop_older_delta;
use large::Whole;
use store::{Original, store_bytes};

/// Handles PutObject.
pub(crate) async fn put<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call { shared, key, .. } = call;
    admit::check(key, &parts.headers)?;
    let config = &shared.config;
    let declared = content_length(&parts.headers);
    let eligible = config.is_eligible(key);
    if !eligible || declared.is_some_and(|n| n > config.max_object_size) {
        let before = change::stored_now(call, false).await;
        let response = admit::forward(call, parts, body).await?;
        if response.status().is_success() {
            if eligible {
                stored_large(call, before).await?;
            } else if let Some(len) = declared {
                shared
                    .counters
                    .stored_whole(call.bucket, len, WholeReason::NotEligible);
                change::record(call, before, Figures::object(len, len, false)).await;
            }
        }
        return Ok(response);
    }
    let read = upload::read(body, declared, config.max_object_size).await?;
    // Content-MD5 and checksums were verified by the ingest; the MD5 (the ETag) is computed
    // while encoding, and the checksums are kept with the object.
    let original = Original {
        checksums: checksum::sent(&parts.headers, &read.trailers),
        data: read.data,
        md5: None,
        multipart_etag: None,
    };
    let stored = store_bytes(call, &parts.headers, original).await?;
    let mut response = Response::new(Either::empty());
    let headers = response.headers_mut();
    headers.insert(header::ETAG, header_value(&stored.etag)?);
    headers.insert(
        "x-amz-storage-type",
        HeaderValue::from_static(stored.storage),
    );
    Ok(response)
}

/// CopyObject of a source larger than `max_object_size`: `body` (`len` bytes, produced
/// while it is read) written whole under `call.key` with the headers S3 keeps of
/// `headers`, then stored as a large PutObject is. The ETag clients see: the MD5 the
/// backend gives a single PUT, as S3 gives a copy.
pub(crate) async fn put_streamed<T: Backend>(
    call: Call<'_, T>,
    headers: &HeaderMap,
    body: Streamed,
    len: u64,
) -> Result<String, Stopped<T>> {
    let before = change::stored_now(call, false).await;
    let etag = written::write_streamed(call, call.key, headers, body, len).await?;
    if call.shared.config.is_eligible(call.key) {
        stored_large(call, before).await?;
    } else {
        change::record(call, before, Figures::object(len, len, false)).await;
    }
    Ok(etag)
}

/// After a PutObject larger than `max_object_size` reached the backend whole: stored by
/// the large-object path when its size qualifies, else left whole (an older delta of the
/// key dropped). `before`: what the savings ledger counted under the key before.
async fn stored_large<T: Backend>(
    call: Call<'_, T>,
    before: Option<Figures>,
) -> Result<(), Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let head = inner.head(bucket, key).await?;
    match Whole::from_head(&head, None) {
        Some(whole) if head.status.is_success() && large::applies(call, whole.size) => {
            large::store(call, &whole, before).await
        }
        Some(whole) if head.status.is_success() => {
            let reason = WholeReason::TooBig;
            call.shared
                .counters
                .stored_whole(bucket, whole.size, reason);
            change::record(call, before, Figures::object(whole.size, whole.size, false)).await;
            drop_older_delta(call).await
        }
        _ => drop_older_delta(call).await,
    }
}
