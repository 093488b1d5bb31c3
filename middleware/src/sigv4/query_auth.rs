//! Removing query-string authentication from a verified request.
//!
//! Once a presigned URL has been verified, its signature parameters have done their job.
//! Left in the URI they would travel inward: a backend that checks signatures itself would
//! try to authenticate them again (and fail, the request having been rewritten), one that
//! does not would refuse them as an authentication it cannot do. The request the inner
//! service sees is the plain request the URL stands for.
//!
//! A presigned URL may also carry request headers as query parameters (`x-amz-acl=private`,
//! `x-amz-meta-a=b`: SDK presigners hoist `x-amz-*` headers into the query so the URL alone
//! is enough). S3 reads them as headers; so does the request passed inward, unless the
//! client also sent the header itself. Only SigV4 does this: it signs the whole query,
//! SigV2 only the sub-resources.

use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use percent_encoding::percent_decode;

/// The query parameters of SigV4 query authentication (compared case-insensitively).
const V4_PARAMS: &[&str] = &[
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// The query parameters of SigV2 query authentication (names as S3 spells them).
const V2_PARAMS: &[&str] = &["AWSAccessKeyId", "Expires", "Signature"];

/// Which scheme authenticated the request through its query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryAuth {
    V4,
    V2,
}

impl QueryAuth {
    fn is_auth_param(self, name: &str) -> bool {
        match self {
            Self::V4 => V4_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name)),
            Self::V2 => {
                V2_PARAMS.contains(&name) || name.eq_ignore_ascii_case("x-amz-security-token")
            }
        }
    }
}

/// Removes the authentication parameters of `scheme` from `uri`'s query, keeping every
/// other parameter byte for byte, and moves hoisted `x-amz-*` parameters into `headers`
/// (a header the client sent wins over a parameter of the same name).
pub(crate) fn strip(uri: &Uri, headers: &mut HeaderMap, scheme: QueryAuth) -> Uri {
    let Some(query) = uri.query() else {
        return uri.clone();
    };
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(raw_name);
        if scheme.is_auth_param(&name) {
            continue;
        }
        // SigV4 signs the whole query; SigV2 only its sub-resources, so a parameter added to
        // a SigV2 URL is not covered by its signature and must not become a header.
        if scheme == QueryAuth::V4
            && let Some(header) = hoisted_header(&name, raw_value)
        {
            if !headers.contains_key(&header.0) {
                headers.insert(header.0, header.1);
            }
            continue;
        }
        kept.push(pair);
    }
    let mut path_and_query = uri.path().to_owned();
    if !kept.is_empty() {
        path_and_query.push('?');
        path_and_query.push_str(&kept.join("&"));
    }
    let mut parts = uri.clone().into_parts();
    // The path and the kept parameters come from a URI that parsed: they parse again.
    parts.path_and_query = PathAndQuery::try_from(path_and_query)
        .ok()
        .or(parts.path_and_query);
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// An `x-amz-*` query parameter that stands for a header, as `(name, value)`; `None` for
/// anything else, or a value no header may carry (the parameter then stays in the query,
/// where the backend sees it as any other unknown parameter).
fn hoisted_header(name: &str, raw_value: &str) -> Option<(HeaderName, HeaderValue)> {
    let lower = name.to_ascii_lowercase();
    if !lower.starts_with("x-amz-") {
        return None;
    }
    let name = HeaderName::from_bytes(lower.as_bytes()).ok()?;
    let value = HeaderValue::from_str(&form_decode(raw_value)).ok()?;
    Some((name, value))
}

fn form_decode(text: &str) -> String {
    let text = text.replace('+', " ");
    percent_decode(text.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(uri: &str, scheme: QueryAuth) -> (String, HeaderMap) {
        let mut headers = HeaderMap::new();
        let uri = strip(&uri.parse().expect("uri"), &mut headers, scheme);
        (uri.to_string(), headers)
    }

    #[test]
    fn v4_parameters_go_and_the_rest_stays_as_sent() {
        let (uri, headers) = stripped(
            "http://h:9/b/k%20x?X-Amz-Algorithm=AWS4-HMAC-SHA256&partNumber=2&\
             X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&\
             X-Amz-Expires=60&X-Amz-SignedHeaders=host&uploadId=a%2Bb&X-Amz-Signature=ab&\
             x-amz-security-token=t&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&Signature=keep",
            QueryAuth::V4,
        );
        assert_eq!(
            uri,
            "http://h:9/b/k%20x?partNumber=2&uploadId=a%2Bb&Signature=keep"
        );
        assert!(headers.is_empty());
    }

    #[test]
    fn v2_parameters_go() {
        let (uri, _) = stripped(
            "/b/k?AWSAccessKeyId=AK&Expires=1700000000&Signature=abc%3D&versionId=v&acl",
            QueryAuth::V2,
        );
        assert_eq!(uri, "/b/k?versionId=v&acl");
        let (uri, headers) = stripped(
            "/b/k?x-amz-acl=public-read&AWSAccessKeyId=AK&Expires=1&Signature=s",
            QueryAuth::V2,
        );
        assert_eq!(uri, "/b/k?x-amz-acl=public-read");
        assert!(headers.is_empty());
        let (uri, _) = stripped(
            "/b/k?AWSAccessKeyId=AK&Expires=1&Signature=s",
            QueryAuth::V2,
        );
        assert_eq!(uri, "/b/k");
    }

    #[test]
    fn hoisted_headers_become_headers_unless_sent() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-acl", HeaderValue::from_static("private"));
        let uri = strip(
            &"/b/k?x-amz-acl=public-read&X-Amz-Meta-Color=dark%20red&X-Amz-Signature=s"
                .parse()
                .expect("uri"),
            &mut headers,
            QueryAuth::V4,
        );
        assert_eq!(uri.to_string(), "/b/k");
        assert_eq!(headers["x-amz-acl"], "private");
        assert_eq!(headers["x-amz-meta-color"], "dark red");
    }

    #[test]
    fn unusable_header_values_stay_in_the_query() {
        let (uri, headers) = stripped("/b/k?x-amz-meta-a=%0A&X-Amz-Signature=s", QueryAuth::V4);
        assert_eq!(uri, "/b/k?x-amz-meta-a=%0A");
        assert!(headers.is_empty());
    }
}
