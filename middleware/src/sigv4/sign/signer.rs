//! Signing one request head: the canonical request of `canonical.rs`, signed with the
//! configured key.

use http::header::{AUTHORIZATION, HOST};
use http::{HeaderValue, Request};
use http_body::Body;

use super::SignConfig;
use crate::s3::error::S3Error;
use crate::s3::time::amz_date;
use crate::sigv4::canonical::{
    ALGORITHM, CanonicalRequest, EMPTY_SHA256, SigningKey, canonical_headers, canonical_query,
    canonical_uri, parse_query, string_to_sign,
};

/// The payload hash of a body sent without hashing it first.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Headers a connection may add, drop or rewrite on the way (hop-by-hop, or set by the
/// HTTP client), or that hold the signature itself: signing them would break it.
const NOT_SIGNED: [&str; 12] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "proxy-authorization",
];

/// Signs `request` in place (see [the module docs](super)).
pub(super) fn sign<B: Body>(config: &SignConfig, request: &mut Request<B>) -> Result<(), S3Error> {
    let clock = config.clock.as_deref().ok_or_else(|| {
        S3Error::internal("no clock to sign the backend request with (SignConfig::clock)")
    })?;
    let amz_date = amz_date(clock.now());
    let payload_hash = if request.body().size_hint().exact() == Some(0) {
        EMPTY_SHA256
    } else {
        UNSIGNED_PAYLOAD
    };
    let uri = request.uri().clone();
    let headers = request.headers_mut();
    for name in ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"] {
        headers.remove(name);
    }
    if !headers.contains_key(HOST)
        && let Some(authority) = uri.authority()
    {
        headers.insert(HOST, header_value(authority.as_str())?);
    }
    headers.insert("x-amz-date", header_value(&amz_date)?);
    headers.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static(payload_hash),
    );
    if let Some(token) = &config.session_token {
        headers.insert("x-amz-security-token", header_value(token)?);
    }
    let mut signed: Vec<String> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| !NOT_SIGNED.contains(name))
        .map(str::to_owned)
        .collect();
    signed.sort_unstable();
    for name in &signed {
        if headers.get_all(name).iter().any(|v| v.to_str().is_err()) {
            return Err(S3Error::invalid_argument(format!(
                "header {name} is not ASCII text and cannot be signed for the backend"
            )));
        }
    }
    let signed_headers = signed.join(";");
    let canonical = CanonicalRequest {
        method: request.method().as_str(),
        uri: canonical_uri(uri.path()),
        query: canonical_query(&parse_query(uri.query()), None),
        headers: canonical_headers(request.headers(), &uri, &signed),
        signed_headers: &signed_headers,
        payload_hash,
    };
    let date = &amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", config.region, config.service);
    let string_to_sign = string_to_sign(&amz_date, &scope, &canonical.to_bytes());
    let signature = SigningKey::derive(&config.secret_key, date, &config.region, &config.service)?
        .sign(string_to_sign.as_bytes())?;
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        config.access_key
    );
    request
        .headers_mut()
        .insert(AUTHORIZATION, header_value(&authorization)?);
    Ok(())
}

fn header_value(text: &str) -> Result<HeaderValue, S3Error> {
    // Not echoed: it may hold a credential.
    HeaderValue::from_str(text).map_err(|_| {
        S3Error::internal("cannot sign the backend request: a credential is no header value")
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::sigv4::canonical::parse_amz_date;

    /// Every day from 1970 to 2200 formats to what the verifier parses back.
    #[test]
    fn dates_round_trip_through_the_parser() {
        for day in (0..84_000u64).step_by(7) {
            let time = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 45_296);
            let text = amz_date(time);
            assert_eq!(parse_amz_date(&text), Some(time), "{text}");
        }
    }

    #[test]
    fn dates_are_iso_basic() {
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            amz_date(UNIX_EPOCH + Duration::from_millis(1_700_000_000_999)),
            "20231114T221320Z"
        );
        assert_eq!(
            amz_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }
}
