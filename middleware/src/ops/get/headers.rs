//! Headers of a reconstructed object: which stored headers describe it, `response-*`
//! overrides, and what passed-through responses must not show.

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, request::Parts};

use crate::inner::Stop;
use crate::s3::query;
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

pub(super) fn apply_overrides<E, RB>(
    client: &Parts,
    headers: &mut HeaderMap,
) -> Result<(), Stop<E, RB>> {
    let query = client.uri.query().unwrap_or("");
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some((_, header_name)) = OVERRIDES.iter().find(|(param, _)| *param == name) {
            headers.insert(*header_name, header_value(&query::decode(value))?);
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
