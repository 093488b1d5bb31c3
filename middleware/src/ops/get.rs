//! The retrieve path: GetObject and HeadObject reconstruct deltas; whole objects pass
//! through with DeltaGlider's metadata removed.
//!
//! Which stored form is current ([`current`]); the answer's headers ([`response`]); the
//! body: a full GET of a delta streams, headers first, then the object window by window
//! ([`stream`]), the reference read from the cache or by ranged GETs ([`source`]); a range
//! reads only the windows covering it ([`part`]); a gzip archive is rebuilt whole from its
//! payload delta ([`rebuild`]); CopyObject and multipart completion decode in memory
//! ([`memory`]).

mod current;
mod delta;
pub(crate) mod headers;
mod indexed;
mod memory;
mod original;
mod part;
mod pieces;
mod rebuild;
mod response;
mod source;
mod stream;

use bytes::Bytes;
use http::header;
use http::{HeaderMap, Method, Request, Response, StatusCode, request::Parts};

use crate::body::{Either, RequestBody, collect_limited};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::Stop;
use crate::s3::error::S3Error;
use crate::s3::range::{self, Wanted};
use crate::stored::keys;
use crate::stored::meta::{MetaError, ObjectMeta, header_value};

use current::{DeltaBytes, StoredDelta, current_delta, held_at_most};
use delta::{original_len, too_large_to_copy};
pub(crate) use headers::descriptive_headers;
use headers::strip_internal_metadata;
pub(crate) use original::{Readback, read_original};
use pieces::DeltaPieces;
use response::respond;
pub(crate) use source::{fetch_range, open as open_reference};

/// Handles GetObject and HeadObject.
pub(crate) async fn get_or_head<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call {
        shared, inner, key, ..
    } = call;
    keys::check_user_key(key).map_err(S3Error::from)?;
    let head = parts.method == Method::HEAD;
    if shared.config.is_eligible(key) {
        let method = if head { Method::HEAD } else { Method::GET };
        if let Some(fetched) = current_delta(call, method).await? {
            return reconstruct(call, &parts, fetched, head).await;
        }
    }
    // Stored whole (or never a delta): the backend answers, minus our metadata.
    let response = inner
        .send(Request::from_parts(parts, body))
        .await
        .map_err(Stop::Inner)?;
    let (mut response_parts, body) = response.into_parts();
    strip_internal_metadata(&mut response_parts.headers);
    Ok(Response::from_parts(
        response_parts,
        Either::passthrough(body),
    ))
}

/// The answer to `client`'s GET or HEAD of an object stored as `delta`.
async fn reconstruct<T: Backend>(
    call: Call<'_, T>,
    client: &Parts,
    delta: StoredDelta<T>,
    head: bool,
) -> Outcome<T> {
    let delta_key = keys::delta_key(call.key);
    let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name)).map_err(|e| match e {
        MetaError::UnsupportedVersion { .. } => S3Error::not_implemented(e.to_string()),
        other => S3Error::internal(format!("{delta_key}: {other}")),
    })?;
    let etag = meta.etag();
    if let Some(answer) = response::unsatisfied::<T>(client, &delta.headers, &etag)? {
        return Ok(answer);
    }
    let headers = response::object_headers::<T>(client, &delta.headers, &meta, &etag)?;
    if head {
        let size = meta.file_size.unwrap_or(0);
        return Ok(respond::<T>(StatusCode::OK, headers, size, Either::empty()));
    }
    get_body(call, client, &meta, delta, headers).await
}

/// The answer to a GET of a delta: the range asked for, or the whole object — streamed
/// while it is rebuilt, unless it is a gzip archive, whose recompression needs the whole
/// payload (rebuilt, verified, then sent).
async fn get_body<T: Backend>(
    call: Call<'_, T>,
    client: &Parts,
    meta: &ObjectMeta,
    mut delta: StoredDelta<T>,
    mut headers: HeaderMap,
) -> Outcome<T> {
    let Call { shared, key, .. } = call;
    if meta.file_size.is_none() || meta.payload_delta.is_some() {
        // Its length from the delta's header, or a gzip rebuild: the delta is needed whole.
        delta.hold(key, shared.config.max_object_size).await?;
    }
    let total = match (&delta.bytes, meta.file_size) {
        (DeltaBytes::Held(bytes), _) => original_len(key, meta, bytes)?,
        (DeltaBytes::Arriving { .. }, size) => size.unwrap_or_default(),
    };
    let range = client
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, len, body) = match range::parse(range, total) {
        Wanted::Unsatisfiable => {
            return Err(S3Error::new(
                "InvalidRange",
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The requested range is not satisfiable",
            )
            .into());
        }
        Wanted::Part(r) if r.end - r.start < total => {
            let content_range = format!("bytes {}-{}/{total}", r.start, r.end - 1);
            headers.insert(header::CONTENT_RANGE, header_value(&content_range)?);
            let len = r.end - r.start;
            // Small ranges of held deltas are decoded in memory; larger ones, and any
            // range of a delta still arriving, stream.
            let body = match &delta.bytes {
                DeltaBytes::Held(bytes)
                    if len <= held_at_most(shared) || meta.payload_delta.is_some() =>
                {
                    Either::full(part::read(call, meta, bytes, r).await?)
                }
                _ => Either::streamed(indexed::range(call, meta, delta, total, r).await?),
            };
            (StatusCode::PARTIAL_CONTENT, len, body)
        }
        Wanted::All | Wanted::Part(_) => match delta.bytes {
            DeltaBytes::Held(bytes) if meta.payload_delta.is_some() => {
                let whole = memory::decode(call, meta, &bytes, None).await?;
                (StatusCode::OK, whole.len() as u64, Either::full(whole))
            }
            bytes => {
                let body = stream::whole(call, meta, DeltaPieces::from(bytes), total).await?;
                (StatusCode::OK, total, Either::streamed(body))
            }
        },
    };
    Ok(respond::<T>(status, headers, len, body))
}

/// The part of the original of `key` that `copy_range` (`x-amz-copy-source-range`) names,
/// all of it without one, when `key` is stored as a delta; `None` when it is not. A range
/// decodes only the windows covering it, so UploadPartCopy of any object stored by the
/// large-object path runs in memory bounded by the part.
pub(crate) async fn read_delta_part<T: Backend>(
    call: Call<'_, T>,
    copy_range: Option<&str>,
) -> Result<Option<Bytes>, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let Some(mut delta) = current_delta(call, Method::GET).await? else {
        return Ok(None);
    };
    let delta_key = keys::delta_key(key);
    let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name))
        .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
    let limit = shared.config.max_object_size;
    if meta.file_size.is_none() {
        delta.hold(key, limit).await?;
    }
    let total = match (&delta.bytes, meta.file_size) {
        (DeltaBytes::Held(bytes), _) => original_len(key, &meta, bytes)?,
        (DeltaBytes::Arriving { .. }, size) => size.unwrap_or_default(),
    };
    let wanted = match range::parse(copy_range, total) {
        Wanted::All if copy_range.is_none() => 0..total,
        Wanted::Part(r) => r,
        _ => {
            return Err(S3Error::new(
                "InvalidRange",
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The x-amz-copy-source-range value is not satisfiable",
            )
            .into());
        }
    };
    if wanted.end - wanted.start > limit {
        return Err(too_large_to_copy(wanted.end - wanted.start, limit).into());
    }
    let bytes = match delta.bytes {
        DeltaBytes::Held(bytes) if wanted.end - wanted.start == total => {
            memory::decode(call, &meta, &bytes, None).await?
        }
        DeltaBytes::Held(bytes) => part::read(call, &meta, &bytes, wanted).await?,
        DeltaBytes::Arriving { .. } => {
            let part = indexed::range(call, &meta, delta, total, wanted).await?;
            collect_limited(part, limit)
                .await
                .map_err(|e| S3Error::internal(format!("cannot reconstruct {key}: {e}")))?
        }
    };
    Ok(Some(bytes))
}
