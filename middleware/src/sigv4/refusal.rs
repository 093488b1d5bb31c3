//! Refused requests: one WARN line each (the access key id the request named, never a
//! secret or a signature), counts by reason, and a mark on the answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderMap, Method, Uri};

use super::canonical::parse_query;
use super::errors::{EXPIRED, NOT_AUTHENTICATED, NOT_YET_VALID, UNSIGNED_HEADERS};
use crate::s3::error::S3Error;

/// Every reason a refusal is counted under, in the order `SigV4Layer::refusals` lists them.
pub(crate) const REASONS: [&str; 9] = [
    "signature_mismatch",
    "unknown_access_key",
    "request_expired",
    "clock_skew",
    "unsigned",
    "unsigned_headers",
    "malformed",
    "unsupported",
    "policy_denied",
];

/// In the extensions of the answer a `SigV4` service gave in place of its inner service's
/// because it refused the request's authentication. The refusal is already logged (one
/// WARN line) and counted (`SigV4Layer::refusals`): whatever is in front need not log that
/// answer again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    reason: &'static str,
}

impl Refusal {
    /// Why the request was refused, one of the reasons `SigV4Layer::refusals` counts
    /// (`signature_mismatch`, `unknown_access_key`, `request_expired`, `clock_skew`,
    /// `unsigned`, `unsigned_headers`, `malformed`, `unsupported`, `policy_denied`).
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// The counts of refused requests by reason, shared by a layer, its services and their
/// clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Refusals {
    counts: Arc<[AtomicU64; REASONS.len()]>,
}

/// The request a refusal is about, as far as its log line tells.
pub(crate) struct Refused<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    /// The access key id the request named, if any.
    pub(crate) access_key: Option<&'a str>,
    /// A browser upload (POST Object): `AccessDenied` is its policy's.
    pub(crate) post: bool,
}

impl Refusals {
    /// Every reason with its count, in the order of [`REASONS`].
    pub(crate) fn snapshot(&self) -> Vec<(&'static str, u64)> {
        REASONS
            .iter()
            .zip(self.counts.iter())
            .map(|(reason, count)| (*reason, count.load(Ordering::Relaxed)))
            .collect()
    }

    /// Logs and counts the refusal of `request` with `error`: the mark for its answer, or
    /// `None` when `error` is no authentication failure (a form too large, no clock), left
    /// to whatever logs answers.
    pub(crate) fn record(&self, request: &Refused<'_>, error: &S3Error) -> Option<Refusal> {
        let Some(reason) = reason(error, request.post) else {
            tracing::debug!(
                code = error.code(),
                message = error.message(),
                "SigV4 layer answered an error"
            );
            return None;
        };
        if let Some(at) = REASONS.iter().position(|r| *r == reason) {
            self.counts[at].fetch_add(1, Ordering::Relaxed);
        }
        let bucket = request
            .uri
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .filter(|b| !b.is_empty());
        tracing::warn!(
            access_key = request.access_key.map(printable),
            reason,
            code = error.code(),
            method = %request.method,
            bucket = bucket.map(printable),
            "authentication refused"
        );
        Some(Refusal { reason })
    }
}

/// The reason `error` refuses a request, or `None` when it is not about authentication.
fn reason(error: &S3Error, post: bool) -> Option<&'static str> {
    Some(match error.code() {
        "SignatureDoesNotMatch" => "signature_mismatch",
        "InvalidAccessKeyId" => "unknown_access_key",
        "RequestTimeTooSkewed" => "clock_skew",
        "AccessDenied" => match error.message() {
            NOT_AUTHENTICATED => "unsigned",
            EXPIRED => "request_expired",
            NOT_YET_VALID => "clock_skew",
            m if m.starts_with(UNSIGNED_HEADERS) => "unsigned_headers",
            _ if post => "policy_denied",
            // A missing or invalid date, SigV2 query parameters missing.
            _ => "malformed",
        },
        "InvalidRequest" if !post => "unsupported",
        "AuthorizationHeaderMalformed"
        | "AuthorizationQueryParametersError"
        | "MissingSecurityHeader"
        | "InvalidArgument"
        | "InvalidRequest"
        | "MalformedPOSTRequest"
        | "InvalidPolicyDocument" => "malformed",
        _ => return None,
    })
}

/// The access key id a request names: in its `Authorization` header (SigV4 `Credential=`,
/// SigV2 `AWS key:`) or its query (`X-Amz-Credential`, `AWSAccessKeyId`).
pub(crate) fn access_key(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    named_access_key(headers, uri).filter(|key| !key.is_empty())
}

fn named_access_key(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(v2) = value.strip_prefix("AWS ") {
            return v2.split_once(':').map(|(key, _)| key.trim().to_owned());
        }
        let (_, credential) = value.split_once("Credential=")?;
        return credential.split(['/', ',']).next().map(str::to_owned);
    }
    let query = parse_query(uri.query());
    let param = |name: &str| query.iter().find(|p| p.name == name).map(|p| &p.value);
    if let Some(credential) = param("X-Amz-Credential") {
        return credential.split('/').next().map(str::to_owned);
    }
    param("AWSAccessKeyId").cloned()
}

/// `text` as a log shows it: at most 128 characters, anything not printable ASCII as `?`.
fn printable(text: &str) -> String {
    text.chars()
        .take(128)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::Request;
    use http_body_util::Full;

    use super::access_key;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
        let mut builder = Request::get(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Full::new(Bytes::new())).expect("request")
    }

    #[test]
    fn the_access_key_a_request_names() {
        let named = |uri: &str, auth: Option<&str>| {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            let request = request(uri, &headers);
            access_key(request.headers(), request.uri())
        };
        let v4 = "AWS4-HMAC-SHA256 Credential=AK1/20231114/us-east-1/s3/aws4_request, \
                      SignedHeaders=host, Signature=00";
        assert_eq!(named("/b", Some(v4)).as_deref(), Some("AK1"));
        assert_eq!(named("/b", Some("AWS AK2:c2ln")).as_deref(), Some("AK2"));
        let query = "/b?X-Amz-Credential=AK3%2F20231114%2Fus-east-1%2Fs3%2Faws4_request";
        assert_eq!(named(query, None).as_deref(), Some("AK3"));
        let v2 = "/b?AWSAccessKeyId=AK4&Signature=x&Expires=1";
        assert_eq!(named(v2, None).as_deref(), Some("AK4"));
        assert_eq!(named("/b", None), None);
        assert_eq!(named("/b", Some("AWS4-HMAC-SHA256 Credential=")), None);
    }
}
