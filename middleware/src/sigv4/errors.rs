//! The S3 errors of authentication, with the codes and messages S3 itself uses.

use http::StatusCode;

use crate::s3::error::S3Error;

/// The message of 403 `AccessDenied` for a request without any authentication.
pub(crate) const NOT_AUTHENTICATED: &str = "Access Denied";

/// The message of 403 `AccessDenied` for a presigned URL past its expiry.
pub(crate) const EXPIRED: &str = "Request has expired";

/// The message of 403 `AccessDenied` for a presigned URL dated in the future.
pub(crate) const NOT_YET_VALID: &str = "Request is not valid yet";

/// How the message of 403 `AccessDenied` for unsigned `x-amz-*` headers starts.
pub(crate) const UNSIGNED_HEADERS: &str =
    "There were headers present in the request which were not signed";

/// 403 `AccessDenied`.
pub(crate) fn access_denied(message: &str) -> S3Error {
    S3Error::new("AccessDenied", StatusCode::FORBIDDEN, message)
}

/// 403 `AccessDenied` for a missing or unparsable request date.
pub(crate) fn invalid_date() -> S3Error {
    access_denied("AWS authentication requires a valid Date or x-amz-date header")
}

/// 403 `SignatureDoesNotMatch`.
pub(crate) fn signature_mismatch() -> S3Error {
    S3Error::new(
        "SignatureDoesNotMatch",
        StatusCode::FORBIDDEN,
        "The request signature we calculated does not match the signature you provided. \
         Check your key and signing method.",
    )
}

/// 403 `SignatureDoesNotMatch` for an `aws-chunked` chunk or trailer.
pub(crate) fn chunk_signature_mismatch(what: &str) -> S3Error {
    S3Error::new(
        "SignatureDoesNotMatch",
        StatusCode::FORBIDDEN,
        format!("The {what} signature we calculated does not match the signature you provided."),
    )
}

/// 403 `InvalidAccessKeyId`.
pub(crate) fn invalid_access_key() -> S3Error {
    S3Error::new(
        "InvalidAccessKeyId",
        StatusCode::FORBIDDEN,
        "The AWS Access Key Id you provided does not exist in our records.",
    )
}

/// 403 `RequestTimeTooSkewed`.
pub(crate) fn time_too_skewed() -> S3Error {
    S3Error::new(
        "RequestTimeTooSkewed",
        StatusCode::FORBIDDEN,
        "The difference between the request time and the current time is too large.",
    )
}

/// 400 `AuthorizationHeaderMalformed`.
pub(crate) fn header_malformed(detail: &str) -> S3Error {
    S3Error::new(
        "AuthorizationHeaderMalformed",
        StatusCode::BAD_REQUEST,
        format!("The authorization header is malformed; {detail}"),
    )
}

/// 400 `AuthorizationQueryParametersError`.
pub(crate) fn query_malformed(detail: &str) -> S3Error {
    S3Error::new(
        "AuthorizationQueryParametersError",
        StatusCode::BAD_REQUEST,
        detail,
    )
}

/// 400 `InvalidRequest`: SigV2 or another scheme this layer does not verify.
pub(crate) fn unsupported_mechanism() -> S3Error {
    S3Error::invalid_request(
        "The authorization mechanism you have provided is not supported. \
         Please use AWS4-HMAC-SHA256.",
    )
}

/// 400 `MissingSecurityHeader`.
pub(crate) fn missing_header(name: &str) -> S3Error {
    S3Error::new(
        "MissingSecurityHeader",
        StatusCode::BAD_REQUEST,
        format!("Your request was missing a required header: {name}"),
    )
}
