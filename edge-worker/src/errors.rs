//! R2's errors as S3 errors.
//!
//! The binding reports failures as JavaScript errors whose message ends with R2's
//! numeric code, e.g. `put: The specified multipart upload does not exist. (10024)`.

use deltaglider::S3Error;
use http::StatusCode;

/// R2 error codes and the S3 errors they are.
const CODES: &[(u32, &str, StatusCode)] = &[
    (10007, "NoSuchKey", StatusCode::NOT_FOUND),
    (10011, "EntityTooSmall", StatusCode::BAD_REQUEST),
    (10012, "MetadataTooLarge", StatusCode::BAD_REQUEST),
    (10020, "InvalidObjectName", StatusCode::BAD_REQUEST),
    (10024, "NoSuchUpload", StatusCode::NOT_FOUND),
    (10025, "InvalidPart", StatusCode::BAD_REQUEST),
    (10029, "InvalidArgument", StatusCode::BAD_REQUEST),
    (10031, "PreconditionFailed", StatusCode::PRECONDITION_FAILED),
    (10037, "BadDigest", StatusCode::BAD_REQUEST),
    (10039, "InvalidRange", StatusCode::RANGE_NOT_SATISFIABLE),
    (10048, "InvalidPart", StatusCode::BAD_REQUEST),
    (100100, "EntityTooLarge", StatusCode::BAD_REQUEST),
];

/// The S3 error for an R2 failure while `doing` something: the matching S3 code when the
/// message carries a known R2 code, else 500 `InternalError`.
pub fn from_r2(doing: &str, message: &str) -> S3Error {
    let code = message
        .trim_end()
        .strip_suffix(')')
        .and_then(|m| m.rsplit_once('('))
        .and_then(|(_, n)| n.trim().parse::<u32>().ok());
    match code.and_then(|c| CODES.iter().find(|(n, ..)| *n == c)) {
        Some((_, name, status)) => S3Error::new(name, *status, format!("R2, {doing}: {message}")),
        None => S3Error::internal(format!("R2 failed {doing}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_s3_errors() {
        let e = from_r2(
            "completing",
            "complete: The specified multipart upload does not exist. (10024)",
        );
        assert_eq!(
            (e.code(), e.status()),
            ("NoSuchUpload", StatusCode::NOT_FOUND)
        );
        let e = from_r2(
            "uploading",
            "uploadPart: Your proposed upload is smaller than the minimum allowed object size. (10011)",
        );
        assert_eq!(e.code(), "EntityTooSmall");
        let e = from_r2("listing", "network lost");
        assert_eq!(
            (e.code(), e.status()),
            ("InternalError", StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(from_r2("x", "odd (code)").code(), "InternalError");
    }
}
