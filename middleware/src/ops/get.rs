//! The retrieve path: GetObject and HeadObject reconstruct deltas; whole objects pass
//! through with DeltaGlider's metadata removed.
//!
//! A full GET of a delta streams: headers first, then the object window by window
//! ([`stream`]), the reference read from the cache or by ranged GETs ([`source`]).

pub(crate) mod headers;
mod part;
mod rebuild;
mod source;
mod stream;

use std::sync::Arc;

use bytes::Bytes;
use deltaglider_codec::decode_verified;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, request::Parts};

use crate::body::{Either, RequestBody, Streamed};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::{Fetched, Stop, pass_error};
use crate::refs::load::{self, Reference};
use crate::s3::conditions::precondition;
use crate::s3::error::S3Error;
use crate::s3::range::{self, Wanted};
use crate::state::metrics::Stopwatch;
use crate::stored::keys;
use crate::stored::meta::header_value;
use crate::stored::meta::{MetaError, ObjectMeta, RefInfo};

pub(crate) use headers::descriptive_headers;
use headers::{apply_overrides, strip_internal_metadata};

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

async fn reconstruct<T: Backend>(
    call: Call<'_, T>,
    client: &Parts,
    delta: Fetched,
    head: bool,
) -> Outcome<T> {
    let Call { key, .. } = call;
    let delta_key = keys::delta_key(key);
    let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name)).map_err(|e| match e {
        MetaError::UnsupportedVersion { .. } => S3Error::not_implemented(e.to_string()),
        other => S3Error::internal(format!("{delta_key}: {other}")),
    })?;
    let etag = meta.etag();
    let last_modified = delta
        .headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    if let Some(status) = precondition(&client.headers, &etag, last_modified) {
        let mut response = Response::new(Either::empty());
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::ETAG, header_value(&etag)?);
        if status == StatusCode::PRECONDITION_FAILED {
            return Err(S3Error::new(
                "PreconditionFailed",
                status,
                "At least one of the pre-conditions you specified did not hold",
            )
            .into());
        }
        return Ok(response);
    }

    let mut headers = descriptive_headers(&delta.headers);
    apply_overrides(client, &mut headers)?;
    headers.insert(header::ETAG, header_value(&etag)?);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert("x-amz-storage-type", HeaderValue::from_static("delta"));
    let size = meta.file_size.unwrap_or(0);
    let checksum_mode = client
        .headers
        .get("x-amz-checksum-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"enabled"));
    let whole_object = client.headers.get(header::RANGE).is_none();
    if checksum_mode && whole_object {
        for (algorithm, value) in &meta.checksums {
            if let Ok(name) =
                HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes())
            {
                headers.insert(name, header_value(value)?);
            }
        }
    }

    if head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        let mut response = Response::new(Either::empty());
        *response.headers_mut() = headers;
        return Ok(response);
    }

    let total = original_len(key, &meta, &delta.body)?;
    let range = client
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, body) = match range::parse(range, total) {
        Wanted::Part(r) if r.end - r.start < total => {
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {}-{}/{total}", r.start, r.end - 1))?,
            );
            // Only the windows covering the range, each checked by its Adler-32, and the
            // reference bytes they copy from: bounded work for a suffix read of a large
            // object, even with a cold cache.
            let quick = match meta.gzip {
                Some(_) => None,
                None => part::decode(call, &meta, &delta.body, r.clone()).await?,
            };
            let part = match quick {
                Some(part) => part,
                None => decode(call, &meta, &delta.body, Some(r)).await?,
            };
            (StatusCode::PARTIAL_CONTENT, part)
        }
        Wanted::All | Wanted::Part(_) if meta.gzip.is_some() => {
            // Recompression needs the whole payload: rebuilt, verified, then sent.
            let whole = decode(call, &meta, &delta.body, None).await?;
            (StatusCode::OK, whole)
        }
        Wanted::Unsatisfiable => {
            return Err(S3Error::new(
                "InvalidRange",
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The requested range is not satisfiable",
            )
            .into());
        }
        Wanted::All | Wanted::Part(_) => {
            let body = stream_whole(call, &meta, delta.body, total).await?;
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
            let mut response = Response::new(Either::streamed(body));
            *response.headers_mut() = headers;
            return Ok(response);
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut response = Response::new(Either::full(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The length of the original: recorded in the metadata, or declared by the delta.
fn original_len<E, RB>(key: &str, meta: &ObjectMeta, delta: &[u8]) -> Result<u64, Stop<E, RB>> {
    match meta.file_size {
        Some(size) => Ok(size),
        None => deltaglider_codec::declared_target_len(delta)
            .map_err(|e| S3Error::internal(format!("cannot reconstruct {key}: {e}")).into()),
    }
}

/// The whole original as a body produced while it is sent. The reference's identity is
/// checked before (a failure is an error response); the object's bytes while streaming
/// (a failure aborts the body).
async fn stream_whole<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: Bytes,
    total: u64,
) -> Result<Streamed, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let ref_info = reference_of(key, meta)?;
    // A delta whose header is unreadable or declares another length fails now, as an
    // error response, rather than after the headers are sent.
    match deltaglider_codec::declared_target_len(&delta) {
        Ok(declared) if declared == total => {}
        Ok(declared) => {
            return Err(S3Error::internal(format!(
                "cannot reconstruct {key}: the delta declares {declared} bytes, the metadata {total}"
            ))
            .into());
        }
        Err(e) => {
            return Err(S3Error::internal(format!("cannot reconstruct {key}: {e}")).into());
        }
    }
    let source = source::open(call, &ref_info.key, &ref_info.sha256).await?;
    stream::body(
        Arc::clone(shared),
        key,
        delta,
        source,
        total,
        meta.file_sha256,
    )
    .await
    .map_err(|e| S3Error::internal(format!("cannot reconstruct {key}: {e}")).into())
}

/// Reconstructs the whole original (SHA-256 verified) or, given a range, only the windows
/// covering it (each verified by its Adler-32; deltas without window checksums are decoded
/// whole and verified, then sliced).
async fn decode<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: &Bytes,
    range: Option<std::ops::Range<u64>>,
) -> Result<Bytes, Stopped<T>> {
    let Call { shared, key, .. } = call;
    if let Some(info) = meta.gzip {
        let whole = rebuild::archive(call, meta, delta, info).await?;
        return Ok(match range {
            Some(r) => whole.slice(r.start as usize..r.end as usize),
            None => whole,
        });
    }
    let reference = load_reference(call, meta).await?;
    let expected_len = original_len(key, meta, delta)?;
    let failed =
        |e: deltaglider_codec::Error| S3Error::internal(format!("cannot reconstruct {key}: {e}"));
    let stopwatch = Stopwatch::start();
    let bytes = match range {
        Some(r) => {
            match deltaglider_codec::decode_range(&reference.bytes, delta, expected_len, r.clone())
            {
                Ok(part) => Bytes::from(part),
                Err(deltaglider_codec::Error::Unsupported { .. }) => {
                    decode_verified(&reference.bytes, delta, expected_len, &meta.file_sha256)
                        .map(|whole| Bytes::from(whole).slice(r.start as usize..r.end as usize))
                        .map_err(failed)?
                }
                Err(e) => return Err(failed(e).into()),
            }
        }
        None => decode_verified(&reference.bytes, delta, expected_len, &meta.file_sha256)
            .map(Bytes::from)
            .map_err(failed)?,
    };
    shared.counters.decoded(stopwatch.micros());
    Ok(bytes)
}

/// The reference a delta names in its metadata.
fn reference_of<'m>(key: &str, meta: &'m ObjectMeta) -> Result<&'m RefInfo, S3Error> {
    meta.reference
        .as_ref()
        .ok_or_else(|| S3Error::internal(format!("{} names no reference", keys::delta_key(key))))
}

/// The whole reference a delta names (from the cache or one GET), checked against the
/// SHA-256 the delta records.
async fn load_reference<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
) -> Result<Reference, Stopped<T>> {
    let Call { key, .. } = call;
    let ref_info = reference_of(key, meta)?;
    load::load(call, &ref_info.key, Some(&ref_info.sha256))
        .await?
        .ok_or_else(|| {
            S3Error::internal(format!(
                "reference {} of {} is missing",
                ref_info.key,
                keys::delta_key(key)
            ))
            .into()
        })
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
    let limit = shared.config.max_object_size;
    if shared.config.is_eligible(key)
        && let Some(delta) = current_delta(call, Method::GET).await?
    {
        let delta_key = keys::delta_key(key);
        let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name))
            .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
        let original = decode(call, &meta, &delta.body, None).await?;
        return Ok(Some((original, descriptive_headers(&delta.headers))));
    }
    let whole = inner
        .fetch(
            inner.request(Method::GET, bucket, key, ""),
            Bytes::new(),
            limit,
        )
        .await?;
    match whole.status {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => Ok(Some((whole.body, descriptive_headers(&whole.headers)))),
        _ => Err(pass_error(whole)),
    }
}

/// `<key>.delta` fetched with `method`, when it is the current form of `key`: it exists,
/// and `<key>` does not or was written earlier (`crate::stored::current`; both exist only after a
/// writer was interrupted between writing one form and removing the other). `None`: read
/// `<key>`. The HEAD of `<key>` runs beside the delta's request, costing no latency. A
/// backend error on either is an error, never "absent".
async fn current_delta<T: Backend>(
    call: Call<'_, T>,
    method: Method,
) -> Result<Option<Fetched>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let request = inner.request(method, bucket, &keys::delta_key(key), "");
    let (delta, whole) = futures_util::future::join(
        inner.fetch(request, Bytes::new(), shared.config.max_object_size),
        inner.head(bucket, key),
    )
    .await;
    let delta = delta?;
    match delta.status {
        StatusCode::NOT_FOUND => return Ok(None),
        s if s.is_success() => {}
        _ => return Err(pass_error(delta)),
    }
    let whole = whole?;
    match whole.status {
        StatusCode::NOT_FOUND => Ok(Some(delta)),
        s if s.is_success() => {
            let whole_wins = crate::stored::current::whole_wins(
                &crate::stored::current::Written::of(&delta.headers),
                &crate::stored::current::Written::of(&whole.headers),
            );
            if whole_wins {
                tracing::warn!(
                    bucket,
                    key,
                    "both stored forms exist; the whole object is newer"
                );
                Ok(None)
            } else {
                Ok(Some(delta))
            }
        }
        _ => Err(pass_error(whole)),
    }
}
