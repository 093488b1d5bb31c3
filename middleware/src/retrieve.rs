//! The retrieve path: GetObject and HeadObject reconstruct deltas; whole objects pass
//! through with DeltaGlider's metadata removed.

use bytes::Bytes;
use deltaglider_codec::decode_verified;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, request::Parts};
use percent_encoding::percent_decode_str;

use crate::body::{Either, ResponseBody};
use crate::delta::Shared;
use crate::error::S3Error;
use crate::inner::{ByteBody, Fetched, Inner, InnerS3, Stop, pass_error};
use crate::keys;
use crate::meta::{self, MetaError, ObjectMeta};
use crate::metrics::Stopwatch;
use crate::range::{self, Wanted};
use crate::reference;
use crate::store::header_value;

type Outcome<E, RB> = Result<Response<ResponseBody<RB>>, Stop<E, RB>>;

/// Headers of the stored delta object that describe the original too.
const DESCRIPTIVE: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "last-modified",
    "x-amz-storage-class",
    "x-amz-tagging-count",
    "x-amz-website-redirect-location",
];

/// `response-*` query parameters and the headers they override.
const OVERRIDES: &[(&str, &str)] = &[
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Handles GetObject and HeadObject.
pub(crate) async fn get_or_head<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    parts: Parts,
    body: B,
) -> Outcome<S::Error, RB>
where
    S: InnerS3<B, RB>,
    B: ByteBody,
    RB: ByteBody,
{
    keys::check_user_key(key).map_err(S3Error::from)?;
    let head = parts.method == Method::HEAD;
    if shared.config.is_eligible(key) {
        let method = if head { Method::HEAD } else { Method::GET };
        let request = inner.request(method, bucket, &keys::delta_key(key), "");
        let fetched = inner
            .fetch(request, Bytes::new(), shared.config.max_object_size)
            .await?;
        match fetched.status {
            StatusCode::NOT_FOUND => {}
            s if s.is_success() => {
                return reconstruct(shared, inner, bucket, key, &parts, fetched, head).await;
            }
            _ => return Err(pass_error(fetched)),
        }
    }
    // Stored whole (or never a delta): the backend answers, minus our metadata.
    let response = inner
        .send(Request::from_parts(parts, Either::passthrough(body)))
        .await
        .map_err(Stop::Inner)?;
    let (mut response_parts, body) = response.into_parts();
    strip_internal_metadata(&mut response_parts.headers);
    Ok(Response::from_parts(
        response_parts,
        Either::passthrough(body),
    ))
}

async fn reconstruct<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    client: &Parts,
    delta: Fetched,
    head: bool,
) -> Outcome<S::Error, RB>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
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
            // Only the windows covering the range, each checked by its Adler-32: bounded
            // work for a suffix read of a large object.
            let part = decode(shared, inner, bucket, key, &meta, &delta.body, Some(r)).await?;
            (StatusCode::PARTIAL_CONTENT, part)
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
            let whole = decode(shared, inner, bucket, key, &meta, &delta.body, None).await?;
            (StatusCode::OK, whole)
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut response = Response::new(Either::full(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The headers of a stored object that describe the original too: standard ones and the
/// client's metadata, without DeltaGlider's.
pub(crate) fn descriptive_headers(stored: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in stored {
        let n = name.as_str();
        let client_meta = n
            .strip_prefix("x-amz-meta-")
            .is_some_and(|m| !meta::is_internal_name(m, false));
        if DESCRIPTIVE.contains(&n) || client_meta {
            headers.append(name.clone(), value.clone());
        }
    }
    headers
}

/// The length of the original: recorded in the metadata, or declared by the delta.
fn original_len<E, RB>(key: &str, meta: &ObjectMeta, delta: &[u8]) -> Result<u64, Stop<E, RB>> {
    match meta.file_size {
        Some(size) => Ok(size),
        None => deltaglider_codec::declared_target_len(delta)
            .map_err(|e| S3Error::internal(format!("cannot reconstruct {key}: {e}")).into()),
    }
}

/// Reconstructs the whole original (SHA-256 verified) or, given a range, only the windows
/// covering it (each verified by its Adler-32; deltas without window checksums are decoded
/// whole and verified, then sliced).
async fn decode<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    meta: &ObjectMeta,
    delta: &[u8],
    range: Option<std::ops::Range<u64>>,
) -> Result<Bytes, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let delta_key = keys::delta_key(key);
    let Some(ref_info) = &meta.reference else {
        return Err(S3Error::internal(format!("{delta_key} names no reference")).into());
    };
    let reference = reference::load(shared, inner, bucket, &ref_info.key, Some(&ref_info.sha256))
        .await?
        .ok_or_else(|| {
            S3Error::internal(format!(
                "reference {} of {delta_key} is missing",
                ref_info.key
            ))
        })?;
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

/// The original bytes of `key` and the headers that describe it, whichever way it is
/// stored; `None` when it does not exist. For CopyObject and multipart completion.
pub(crate) async fn read_original<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
) -> Result<Option<(Bytes, HeaderMap)>, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let limit = shared.config.max_object_size;
    if shared.config.is_eligible(key) {
        let delta_key = keys::delta_key(key);
        let request = inner.request(Method::GET, bucket, &delta_key, "");
        let delta = inner.fetch(request, Bytes::new(), limit).await?;
        if delta.status.is_success() {
            let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name))
                .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
            let original = decode(shared, inner, bucket, key, &meta, &delta.body, None).await?;
            return Ok(Some((original, descriptive_headers(&delta.headers))));
        }
        if delta.status != StatusCode::NOT_FOUND {
            return Err(pass_error(delta));
        }
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

/// Evaluates If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since the way S3
/// does: the status to answer with instead of the object, if any.
fn precondition(
    headers: &HeaderMap,
    etag: &str,
    last_modified: Option<std::time::SystemTime>,
) -> Option<StatusCode> {
    let get = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let matches = |list: &str| {
        list.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
    };
    let date = |name| get(name).and_then(|v| httpdate::parse_http_date(v).ok());
    let if_match = get(header::IF_MATCH);
    if if_match.is_some_and(|l| !matches(l)) {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    if if_match.is_none()
        && let (Some(since), Some(modified)) = (date(header::IF_UNMODIFIED_SINCE), last_modified)
        && modified > since
    {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    let if_none_match = get(header::IF_NONE_MATCH);
    if if_none_match.is_some_and(matches) {
        return Some(StatusCode::NOT_MODIFIED);
    }
    if if_none_match.is_none()
        && let (Some(since), Some(modified)) = (date(header::IF_MODIFIED_SINCE), last_modified)
        && modified <= since
    {
        return Some(StatusCode::NOT_MODIFIED);
    }
    None
}

fn apply_overrides<E, RB>(client: &Parts, headers: &mut HeaderMap) -> Result<(), Stop<E, RB>> {
    let query = client.uri.query().unwrap_or("");
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some((_, header_name)) = OVERRIDES.iter().find(|(param, _)| *param == name) {
            let value = percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            headers.insert(*header_name, header_value(&value)?);
        }
    }
    Ok(())
}

/// Removes `x-amz-meta-dg-*` (and `dg_*`) headers from a passed-through response, after
/// restoring the multipart ETag of an object that was rewritten after its upload.
fn strip_internal_metadata(headers: &mut HeaderMap) {
    if let Some(etag) = headers
        .get("x-amz-meta-dg-multipart-etag")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| HeaderValue::from_str(&format!("\"{}\"", v.trim_matches('"'))).ok())
    {
        headers.insert(header::ETAG, etag);
    }
    let internal: Vec<HeaderName> = headers
        .keys()
        .filter(|n| {
            n.as_str()
                .strip_prefix("x-amz-meta-")
                .is_some_and(|m| meta::is_internal_name(m, false))
        })
        .cloned()
        .collect();
    for name in internal {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions() {
        let mut h = HeaderMap::new();
        let etag = "\"abc\"";
        assert_eq!(precondition(&h, etag, None), None);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(precondition(&h, etag, None), Some(StatusCode::NOT_MODIFIED));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(
            precondition(&h, etag, None),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        let mut h = HeaderMap::new();
        let modified = httpdate::parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT").ok();
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Wed, 25 Nov 2026 11:00:00 GMT"),
        );
        assert_eq!(
            precondition(&h, etag, modified),
            Some(StatusCode::NOT_MODIFIED)
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_UNMODIFIED_SINCE,
            HeaderValue::from_static("Wed, 25 Nov 2026 09:00:00 GMT"),
        );
        assert_eq!(
            precondition(&h, etag, modified),
            Some(StatusCode::PRECONDITION_FAILED)
        );
    }
}
