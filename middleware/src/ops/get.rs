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
mod memory;
mod part;
mod rebuild;
mod response;
mod source;
mod stream;

use bytes::Bytes;
use http::header;
use http::{HeaderMap, Method, Request, Response, StatusCode, request::Parts};

use crate::body::{Either, RequestBody};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::{Fetched, Stop};
use crate::s3::error::S3Error;
use crate::s3::range::{self, Wanted};
use crate::stored::keys;
use crate::stored::meta::{MetaError, ObjectMeta, header_value};

use current::{current_delta, found};
use delta::original_len;
pub(crate) use headers::descriptive_headers;
use headers::strip_internal_metadata;
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
    delta: Fetched,
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
    get_body(call, client, &meta, delta.body, headers).await
}

/// The answer to a GET of a delta: the range asked for, or the whole object — streamed
/// while it is rebuilt, unless it is a gzip archive, whose recompression needs the whole
/// payload (rebuilt, verified, then sent).
async fn get_body<T: Backend>(
    call: Call<'_, T>,
    client: &Parts,
    meta: &ObjectMeta,
    delta: Bytes,
    mut headers: HeaderMap,
) -> Outcome<T> {
    let total = original_len(call.key, meta, &delta)?;
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
            let part = part::read(call, meta, &delta, r).await?;
            (
                StatusCode::PARTIAL_CONTENT,
                part.len() as u64,
                Either::full(part),
            )
        }
        Wanted::All | Wanted::Part(_) if meta.payload_delta.is_some() => {
            let whole = memory::decode(call, meta, &delta, None).await?;
            (StatusCode::OK, whole.len() as u64, Either::full(whole))
        }
        Wanted::All | Wanted::Part(_) => {
            let body = stream::whole(call, meta, delta, total).await?;
            (StatusCode::OK, total, Either::streamed(body))
        }
    };
    Ok(respond::<T>(status, headers, len, body))
}

/// The original bytes of `key` and the headers that describe it, whichever way it is
/// stored; `None` when it does not exist. For CopyObject and multipart completion.
pub(crate) async fn read_original<T: Backend>(
    call: Call<'_, T>,
) -> Result<Option<(Bytes, HeaderMap)>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    if shared.config.is_eligible(key)
        && let Some(delta) = current_delta(call, Method::GET).await?
    {
        let delta_key = keys::delta_key(key);
        let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name))
            .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
        let total = original_len(key, &meta, &delta.body)?;
        if total > shared.config.max_object_size {
            return Err(too_large_to_copy(total, shared.config.max_object_size).into());
        }
        let original = memory::decode(call, &meta, &delta.body, None).await?;
        return Ok(Some((original, descriptive_headers(&delta.headers))));
    }
    let request = inner.request(Method::GET, bucket, key, "");
    let whole = inner
        .fetch(request, Bytes::new(), shared.config.max_object_size)
        .await?;
    Ok(found(whole)?.map(|whole| (whole.body, descriptive_headers(&whole.headers))))
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
    let Some(delta) = current_delta(call, Method::GET).await? else {
        return Ok(None);
    };
    let delta_key = keys::delta_key(key);
    let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name))
        .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
    let total = original_len(key, &meta, &delta.body)?;
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
    let limit = shared.config.max_object_size;
    if wanted.end - wanted.start > limit {
        return Err(too_large_to_copy(wanted.end - wanted.start, limit).into());
    }
    if wanted.end - wanted.start == total {
        return Ok(Some(memory::decode(call, &meta, &delta.body, None).await?));
    }
    Ok(Some(part::read(call, &meta, &delta.body, wanted).await?))
}

/// A copy source (or part of one) larger than the layer rebuilds in memory.
fn too_large_to_copy(len: u64, limit: u64) -> S3Error {
    S3Error::new(
        "InvalidRequest",
        StatusCode::BAD_REQUEST,
        format!(
            "The copy source is stored as a delta and is {len} bytes, more than this \
             deployment rebuilds in memory ({limit} bytes, max_object_size): copy it with \
             UploadPartCopy in ranges of at most that size"
        ),
    )
}
