//! The S3 errors of request bodies, with the codes and messages S3 itself uses.

use http::StatusCode;

use crate::s3::error::S3Error;

/// 400 `IncompleteBody`: an `aws-chunked` body that does not parse.
pub(crate) fn malformed(what: impl std::fmt::Display) -> S3Error {
    incomplete(format!("malformed aws-chunked body: {what}"))
}

/// 400 `IncompleteBody`: a body that ended early, ran long or could not be read.
pub(crate) fn incomplete(detail: impl std::fmt::Display) -> S3Error {
    S3Error::new(
        "IncompleteBody",
        StatusCode::BAD_REQUEST,
        format!("The request body is incomplete or malformed: {detail}"),
    )
}

/// 400 `XAmzContentSHA256Mismatch`.
pub(crate) fn content_sha256_mismatch() -> S3Error {
    S3Error::new(
        "XAmzContentSHA256Mismatch",
        StatusCode::BAD_REQUEST,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
}

/// 400 `BadDigest` for an `x-amz-checksum-*` that differs.
pub(crate) fn checksum_mismatch(algorithm: &str) -> S3Error {
    S3Error::new(
        "BadDigest",
        StatusCode::BAD_REQUEST,
        format!(
            "The {} you specified did not match the calculated checksum.",
            algorithm.to_uppercase()
        ),
    )
}

/// 400 `BadDigest` for a `Content-MD5` that differs.
pub(crate) fn md5_mismatch() -> S3Error {
    S3Error::new(
        "BadDigest",
        StatusCode::BAD_REQUEST,
        "The Content-MD5 you specified did not match what we received.",
    )
}

/// 400 `InvalidDigest`: a `Content-MD5` that is not the base64 form of 16 bytes.
pub(crate) fn invalid_md5() -> S3Error {
    S3Error::new(
        "InvalidDigest",
        StatusCode::BAD_REQUEST,
        "The Content-MD5 you specified is not valid.",
    )
}

/// 411 `MissingContentLength`.
pub(crate) fn missing_length() -> S3Error {
    S3Error::new(
        "MissingContentLength",
        StatusCode::LENGTH_REQUIRED,
        "You must provide the Content-Length HTTP header.",
    )
}

/// 400 `MetadataTooLarge`.
pub(crate) fn metadata_too_large(total: usize, limit: usize) -> S3Error {
    S3Error::new(
        "MetadataTooLarge",
        StatusCode::BAD_REQUEST,
        format!(
            "Your metadata headers exceed the maximum allowed metadata size: \
             {total} bytes, of {limit}"
        ),
    )
}
