//! `x-amz-checksum-*`: verified on PUT (header or aws-chunked trailer), kept with the
//! object, returned on GET and HEAD when the client asks (`x-amz-checksum-mode: ENABLED`).

use http::{HeaderMap, StatusCode};
use sha1::Digest as _;

use crate::error::S3Error;
use crate::store::base64_encode;

/// The algorithms S3 accepts, as they appear in header names.
pub(crate) const ALGORITHMS: [&str; 5] = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

const CRC64_NVME: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_NVME);

/// The base64 checksum of `data` under `algorithm` (one of [`ALGORITHMS`]).
pub(crate) fn compute(algorithm: &str, data: &[u8]) -> Option<String> {
    let raw: Vec<u8> = match algorithm {
        "crc32" => crc32fast::hash(data).to_be_bytes().to_vec(),
        "crc32c" => crc32c::crc32c(data).to_be_bytes().to_vec(),
        "crc64nvme" => CRC64_NVME.checksum(data).to_be_bytes().to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        _ => return None,
    };
    Some(base64_encode(&raw))
}

/// Checks every checksum the client sent, in headers or trailers, against `data`; returns
/// them (algorithm, base64 value) to be kept with the object.
pub(crate) fn verify(
    headers: &HeaderMap,
    trailers: &[(String, String)],
    data: &[u8],
) -> Result<Vec<(&'static str, String)>, S3Error> {
    let mut verified = Vec::new();
    for algorithm in ALGORITHMS {
        let name = format!("x-amz-checksum-{algorithm}");
        let sent = headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                trailers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            });
        let Some(sent) = sent else { continue };
        let actual = compute(algorithm, data).unwrap_or_default();
        if sent.trim() != actual {
            return Err(S3Error::new(
                "BadDigest",
                StatusCode::BAD_REQUEST,
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.to_uppercase()
                ),
            ));
        }
        verified.push((algorithm, actual));
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Values S3 documents / returns for "hello world".
        let data = b"hello world";
        assert_eq!(compute("crc32", data).as_deref(), Some("DUoRhQ=="));
        assert_eq!(compute("crc32c", data).as_deref(), Some("yZRlqg=="));
        assert_eq!(
            compute("sha1", data).as_deref(),
            Some("Kq5sNclPz7QV2+lfQIuc6R7oRu0=")
        );
        assert_eq!(
            compute("sha256", data).as_deref(),
            Some("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
        assert!(compute("crc64nvme", data).is_some());
        assert_eq!(compute("md5", data), None);
    }

    #[test]
    fn mismatch_is_bad_digest() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-checksum-crc32",
            http::HeaderValue::from_static("AAAAAA=="),
        );
        let e = verify(&headers, &[], b"hello world").expect_err("mismatch");
        assert_eq!(e.code(), "BadDigest");
        let ok = verify(
            &HeaderMap::new(),
            &[("x-amz-checksum-crc32".into(), "DUoRhQ==".into())],
            b"hello world",
        )
        .expect("trailer matches");
        assert_eq!(ok, vec![("crc32", "DUoRhQ==".to_owned())]);
    }
}
