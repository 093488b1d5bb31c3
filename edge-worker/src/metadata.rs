//! An object's metadata on the R2 side: the split of a request's headers into R2's HTTP
//! metadata and custom metadata.

use std::time::UNIX_EPOCH;

use deltaglider::s3::time::parse_http_date;
use http::{HeaderMap, header};

/// The standard headers R2 keeps as an object's HTTP metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpMeta {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`, without `aws-chunked` (a transfer framing, not the object's).
    pub content_encoding: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, in milliseconds since the epoch.
    pub expires_ms: Option<u64>,
}

/// What R2 stores of a request's headers: HTTP metadata, and the `x-amz-meta-*` headers
/// as custom metadata (names without the prefix, lower case as S3 keeps them).
pub fn object_metadata(headers: &HeaderMap) -> (HttpMeta, Vec<(String, String)>) {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_encoding = text(header::CONTENT_ENCODING)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|v| !v.is_empty());
    let http = HttpMeta {
        content_type: text(header::CONTENT_TYPE),
        content_language: text(header::CONTENT_LANGUAGE),
        content_disposition: text(header::CONTENT_DISPOSITION),
        content_encoding,
        cache_control: text(header::CACHE_CONTROL),
        expires_ms: text(header::EXPIRES)
            .and_then(|v| parse_http_date(&v))
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64),
    };
    let custom = headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    (http, custom)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn metadata_split() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("aws-chunked, gzip"),
        );
        h.insert("x-amz-meta-build", HeaderValue::from_static("1234"));
        h.insert("x-amz-meta-dg-file-size", HeaderValue::from_static("12"));
        h.insert("x-amz-acl", HeaderValue::from_static("private"));
        let (http, mut custom) = object_metadata(&h);
        custom.sort();
        assert_eq!(http.content_type.as_deref(), Some("application/zip"));
        assert_eq!(http.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(
            custom,
            vec![
                ("build".to_owned(), "1234".to_owned()),
                ("dg-file-size".to_owned(), "12".to_owned())
            ]
        );
    }
}
