//! Reading the signature of a request (header or presigned URL) and checking it.

use std::time::Duration;

use http::header::AUTHORIZATION;
use http::request::Parts;

use super::canonical::{
    ALGORITHM, CanonicalRequest, QueryParam, SigningKey, canonical_headers, canonical_query,
    canonical_uri, parse_amz_date, parse_query, signatures_match, string_to_sign,
};
use super::chunked::{ChunkSigning, SignedPayload};
use super::config::{MAX_PRESIGNED_EXPIRY, SigV4Config};
use super::errors::{
    EXPIRED, NOT_AUTHENTICATED, NOT_YET_VALID, UNSIGNED_HEADERS, access_denied, header_malformed,
    invalid_access_key, invalid_date, missing_header, query_malformed, signature_mismatch,
    time_too_skewed, unsupported_mechanism,
};
use super::principal::{Principal, Verified};
use super::query_auth::QueryAuth;
use super::v2;
use crate::s3::error::S3Error;

/// The signature parameters, from either place.
struct Signed<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
    amz_date: &'a str,
    payload_hash: &'a str,
    /// `X-Amz-Expires` of a presigned URL; `None` for header authentication.
    expires: Option<Duration>,
}

impl Signed<'_> {
    fn malformed(&self, detail: &str) -> S3Error {
        match self.expires {
            Some(_) => query_malformed(detail),
            None => header_malformed(detail),
        }
    }
}

const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

/// Headers a presigned URL may carry unsigned (AWS SDKs leave them out of presigning).
const PRESIGN_UNSIGNED_OK: &[&str] = &["x-amz-user-agent", "x-amz-checksum-mode"];

/// Checks the request's signature. `Ok(None)`: the request carries no authentication and
/// anonymous requests are allowed.
pub(crate) fn authenticate(
    config: &SigV4Config,
    parts: &Parts,
) -> Result<Option<Verified>, S3Error> {
    let query = parse_query(parts.uri.query());
    let has = |name: &str| query.iter().any(|p| p.name == name);
    let presigned = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"]
        .into_iter()
        .any(has);
    let sigv2_query = has("AWSAccessKeyId") || has("Signature");
    let signed = match (parts.headers.get(AUTHORIZATION), presigned || sigv2_query) {
        (None, false) if config.allow_anonymous => return Ok(None),
        (None, false) => return Err(access_denied(NOT_AUTHENTICATED)),
        (Some(_), true) => {
            return Err(S3Error::invalid_argument(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                 Signature query string parameter or the Authorization header should be \
                 specified",
            ));
        }
        (None, true) if !presigned => return v2::verify_query(config, parts, &query).map(Some),
        (None, true) => from_query(&query)?,
        (Some(header), false) if v2::is_v2_header(header.as_bytes()) => {
            return v2::verify_header(config, parts).map(Some);
        }
        (Some(header), false) => from_header(header, parts)?,
    };
    verify(config, parts, &query, &signed).map(Some)
}

fn from_header<'a>(header: &'a http::HeaderValue, parts: &'a Parts) -> Result<Signed<'a>, S3Error> {
    let value = header
        .to_str()
        .map_err(|_| header_malformed("it is not ASCII"))?
        .trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(unsupported_mechanism());
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (name, value) = component
            .split_once('=')
            .ok_or_else(|| header_malformed(&format!("'{component}' is not name=value")))?;
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => return Err(header_malformed(&format!("unknown component '{other}'"))),
        };
        if slot.replace(value.trim()).is_some() {
            return Err(header_malformed(&format!("'{name}' is given twice")));
        }
    }
    let missing = |what: &str| header_malformed(&format!("the {what} component is missing"));
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    Ok(Signed {
        credential: credential.ok_or_else(|| missing("Credential"))?,
        signed_headers: signed_headers.ok_or_else(|| missing("SignedHeaders"))?,
        signature: signature.ok_or_else(|| missing("Signature"))?,
        amz_date: header("x-amz-date").ok_or_else(invalid_date)?,
        payload_hash: header("x-amz-content-sha256")
            .ok_or_else(|| missing_header("x-amz-content-sha256"))?,
        expires: None,
    })
}

fn from_query(query: &[QueryParam]) -> Result<Signed<'_>, S3Error> {
    let get = |name: &str| -> Result<Option<&str>, S3Error> {
        let mut found = query.iter().filter(|p| p.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(query_malformed(&format!("{name} is given more than once.")));
        }
        Ok(first.map(|p| p.value.as_str()))
    };
    let required = |name: &str| -> Result<&str, S3Error> {
        get(name)?.ok_or_else(|| {
            query_malformed(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, \
                 X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
                 X-Amz-Expires parameters.",
            )
        })
    };
    if required("X-Amz-Algorithm")? != ALGORITHM {
        return Err(query_malformed(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let expires = required("X-Amz-Expires")?
        .parse::<u64>()
        .map_err(|_| query_malformed("X-Amz-Expires should be a number"))
        .map(Duration::from_secs)?;
    if expires > MAX_PRESIGNED_EXPIRY {
        return Err(query_malformed(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    Ok(Signed {
        credential: required("X-Amz-Credential")?,
        signed_headers: required("X-Amz-SignedHeaders")?,
        signature: required("X-Amz-Signature")?,
        amz_date: required("X-Amz-Date")?,
        payload_hash: get("X-Amz-Content-Sha256")?.unwrap_or(UNSIGNED),
        expires: Some(expires),
    })
}

/// How the body is covered by the signature.
enum Payload {
    Unsigned,
    Sha256([u8; 32]),
    Chunked { trailer: bool },
}

fn payload_kind(value: &str) -> Result<Payload, S3Error> {
    Ok(match value {
        UNSIGNED | STREAMING_UNSIGNED_TRAILER => Payload::Unsigned,
        STREAMING_SIGNED => Payload::Chunked { trailer: false },
        STREAMING_SIGNED_TRAILER => Payload::Chunked { trailer: true },
        // SigV4A chunk signatures (ECDSA) cannot be checked with an HMAC key.
        v if v.starts_with("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") => {
            return Err(S3Error::invalid_request(
                "SigV4A (ECDSA) streaming payloads are not supported; \
                 sign with AWS4-HMAC-SHA256.",
            ));
        }
        hash => {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(hash, &mut digest).map_err(|_| {
                S3Error::invalid_argument(
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, \
                     STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, \
                     STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                )
            })?;
            Payload::Sha256(digest)
        }
    })
}

/// The parts of the credential scope `<access key>/<date>/<region>/<service>/aws4_request`.
struct Scope<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

impl Scope<'_> {
    fn to_path(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

fn verify(
    config: &SigV4Config,
    parts: &Parts,
    query: &[QueryParam],
    signed: &Signed<'_>,
) -> Result<Verified, S3Error> {
    let scope = read_scope(config, signed)?;
    let payload = payload_kind(signed.payload_hash)?;
    let signed_headers = check_signed_headers(parts, signed)?;
    check_time(config, signed)?;
    let secret = config
        .credentials
        .secret_key(scope.access_key)
        .ok_or_else(invalid_access_key)?;
    let exclude = signed.expires.map(|_| "X-Amz-Signature");
    let canonical = CanonicalRequest {
        method: parts.method.as_str(),
        uri: canonical_uri(parts.uri.path()),
        query: canonical_query(query, exclude),
        headers: canonical_headers(&parts.headers, &parts.uri, &signed_headers),
        signed_headers: signed.signed_headers,
        payload_hash: signed.payload_hash,
    };
    let scope_path = scope.to_path();
    let string_to_sign = string_to_sign(signed.amz_date, &scope_path, &canonical.to_bytes());
    let key = SigningKey::derive(&secret, scope.date, scope.region, scope.service)?;
    if !signatures_match(&key.sign(string_to_sign.as_bytes())?, signed.signature) {
        tracing::debug!(
            canonical_request = %String::from_utf8_lossy(&canonical.to_bytes()),
            %string_to_sign,
            "SigV4 signature mismatch"
        );
        return Err(signature_mismatch());
    }
    let payload = match payload {
        Payload::Unsigned => None,
        Payload::Sha256(expected) => Some(SignedPayload::Sha256(expected)),
        Payload::Chunked { trailer } => Some(SignedPayload::Chunked(ChunkSigning::new(
            key,
            signed.amz_date.to_owned(),
            scope_path,
            signed.signature.to_owned(),
            trailer,
        ))),
    };
    Ok(Verified {
        principal: Principal::new(scope.access_key, scope.region, signed.expires.is_some()),
        payload,
        query_auth: signed.expires.map(|_| QueryAuth::V4),
    })
}

/// The credential scope, checked against the configuration and the request's date.
fn read_scope<'a>(config: &SigV4Config, signed: &Signed<'a>) -> Result<Scope<'a>, S3Error> {
    let scope_parts: Vec<&str> = signed.credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope_parts[..] else {
        return Err(signed.malformed(
            "the Credential must be <access key>/<date>/<region>/<service>/aws4_request",
        ));
    };
    if access_key.is_empty() || region.is_empty() {
        return Err(signed.malformed(
            "the Credential must be <access key>/<date>/<region>/<service>/aws4_request",
        ));
    }
    if service != config.service {
        return Err(signed.malformed(&format!(
            "incorrect service '{service}'; expecting '{}'",
            config.service
        )));
    }
    if let Some(expected) = config.region.as_deref().filter(|r| *r != region) {
        return Err(signed.malformed(&format!(
            "the region '{region}' is wrong; expecting '{expected}'"
        )));
    }
    parse_amz_date(signed.amz_date).ok_or_else(invalid_date)?;
    if date.len() != 8 || !signed.amz_date.starts_with(date) {
        return Err(
            signed.malformed("Invalid credential date. Date is not the same as X-Amz-Date.")
        );
    }
    Ok(Scope {
        access_key,
        date,
        region,
        service,
    })
}

/// The request's time against the clock: within the allowed skew for a signed header, not
/// yet expired (nor valid only in the future) for a presigned URL.
fn check_time(config: &SigV4Config, signed: &Signed<'_>) -> Result<(), S3Error> {
    let time = parse_amz_date(signed.amz_date).ok_or_else(invalid_date)?;
    let clock = config.clock.as_ref().ok_or_else(|| {
        S3Error::internal("SigV4 verification has no clock: set SigV4Config::clock")
    })?;
    let now = clock.now();
    match signed.expires {
        None => {
            let skew = now.duration_since(time).unwrap_or_else(|e| e.duration());
            if skew > config.max_skew {
                return Err(time_too_skewed());
            }
        }
        Some(expires) => {
            if time
                .duration_since(now)
                .is_ok_and(|ahead| ahead > config.max_skew)
            {
                return Err(access_denied(NOT_YET_VALID));
            }
            if now.duration_since(time).is_ok_and(|age| age > expires) {
                return Err(access_denied(EXPIRED));
            }
        }
    }
    Ok(())
}

/// The signed header names, lower-cased; `host` must be among them, and so must every
/// `x-amz-*` header the request carries (S3 refuses unsigned ones too: they change what a
/// request does, and a replayed signature must not carry new ones).
fn check_signed_headers(parts: &Parts, signed: &Signed<'_>) -> Result<Vec<String>, S3Error> {
    let names: Vec<String> = signed
        .signed_headers
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    if names.iter().any(String::is_empty) {
        return Err(signed.malformed("SignedHeaders has an empty name"));
    }
    if !names.iter().any(|n| n == "host") {
        return Err(signed.malformed("SignedHeaders must include host"));
    }
    let mut unsigned: Vec<&str> = parts
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-") && *name != "x-amz-security-token")
        .filter(|name| !(signed.expires.is_some() && PRESIGN_UNSIGNED_OK.contains(name)))
        .filter(|name| !names.iter().any(|n| n == name))
        .collect();
    if !unsigned.is_empty() {
        unsigned.sort_unstable();
        return Err(access_denied(&format!(
            "{UNSIGNED_HEADERS}: {}",
            unsigned.join(", ")
        )));
    }
    Ok(names)
}
