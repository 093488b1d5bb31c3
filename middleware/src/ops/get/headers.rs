//! Headers of a reconstructed object: which stored headers describe it, conditional
//! requests, `response-*` overrides, and what passed-through responses must not show.

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, StatusCode, request::Parts};
use percent_encoding::percent_decode_str;

use crate::inner::Stop;
use crate::stored::meta;
use crate::stored::meta::header_value;

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

/// Evaluates If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since the way S3
/// does: the status to answer with instead of the object, if any.
pub(crate) fn precondition(
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

pub(super) fn apply_overrides<E, RB>(
    client: &Parts,
    headers: &mut HeaderMap,
) -> Result<(), Stop<E, RB>> {
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
pub(super) fn strip_internal_metadata(headers: &mut HeaderMap) {
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
