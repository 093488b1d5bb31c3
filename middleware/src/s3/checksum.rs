//! `x-amz-checksum-*`: verified by the ingest (header or aws-chunked trailer), kept with the
//! object, returned on GET and HEAD when the client asks (`x-amz-checksum-mode: ENABLED`).

use http::HeaderMap;
use sha1::Digest as _;

use crate::s3::content_md5::base64_encode;

/// The algorithms S3 accepts, as they appear in header names.
pub const ALGORITHMS: [&str; 5] = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

static CRC64_NVME: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_NVME);

/// The base64 checksum of `data` under `algorithm` (one of [`ALGORITHMS`]).
#[cfg(test)]
pub fn compute(algorithm: &str, data: &[u8]) -> Option<String> {
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

/// A checksum computed over data that arrives in pieces (an `aws-chunked` body whose
/// trailer carries the checksum).
pub struct Running {
    algorithm: &'static str,
    state: RunningState,
}

enum RunningState {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc::Digest<'static, u64>),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Running {
    /// A hasher for `algorithm` (one of [`ALGORITHMS`]); `None` for any other name.
    pub fn new(algorithm: &str) -> Option<Self> {
        let (algorithm, state) = match algorithm {
            "crc32" => ("crc32", RunningState::Crc32(crc32fast::Hasher::new())),
            "crc32c" => ("crc32c", RunningState::Crc32c(0)),
            "crc64nvme" => ("crc64nvme", RunningState::Crc64Nvme(CRC64_NVME.digest())),
            "sha1" => ("sha1", RunningState::Sha1(sha1::Sha1::new())),
            "sha256" => ("sha256", RunningState::Sha256(sha2::Sha256::new())),
            _ => return None,
        };
        Some(Self { algorithm, state })
    }

    /// The algorithm, as in header names (`crc32`, `sha256`, …).
    pub fn algorithm(&self) -> &'static str {
        self.algorithm
    }

    /// Feeds the next piece of data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            RunningState::Crc32(h) => h.update(data),
            RunningState::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            RunningState::Crc64Nvme(d) => d.update(data),
            RunningState::Sha1(h) => h.update(data),
            RunningState::Sha256(h) => h.update(data),
        }
    }

    /// The base64 checksum of everything fed, as `compute` gives it.
    pub fn finish(self) -> String {
        let raw: Vec<u8> = match self.state {
            RunningState::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            RunningState::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            RunningState::Crc64Nvme(d) => d.finalize().to_be_bytes().to_vec(),
            RunningState::Sha1(h) => h.finalize().to_vec(),
            RunningState::Sha256(h) => h.finalize().to_vec(),
        };
        base64_encode(&raw)
    }
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The checksums the client sent (algorithm, base64 value), as headers or as trailers of
/// a streamed body: the ingest verified them, the object keeps them.
pub fn sent(headers: &HeaderMap, trailers: &[(String, String)]) -> Vec<(&'static str, String)> {
    ALGORITHMS
        .into_iter()
        .filter_map(|algorithm| {
            let name = format!("x-amz-checksum-{algorithm}");
            let value = headers
                .get(&name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| {
                    trailers
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.clone())
                })?;
            Some((algorithm, value.trim().to_owned()))
        })
        .collect()
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
    fn running_matches_compute_in_any_pieces() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for algorithm in ALGORITHMS {
            for split in [0, 1, 17, 500, 999, 1000] {
                let mut running = Running::new(algorithm).expect("known algorithm");
                assert_eq!(running.algorithm(), algorithm);
                running.update(&data[..split]);
                running.update(&[]);
                running.update(&data[split..]);
                assert_eq!(
                    Some(running.finish()),
                    compute(algorithm, &data),
                    "{algorithm}"
                );
            }
        }
        assert!(Running::new("md5").is_none());
    }

    #[test]
    fn sent_checksums_come_from_headers_or_trailers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-checksum-crc32",
            http::HeaderValue::from_static("DUoRhQ=="),
        );
        assert_eq!(sent(&headers, &[]), vec![("crc32", "DUoRhQ==".to_owned())]);
        let trailers = [("x-amz-checksum-sha1".to_owned(), "Kq5s".to_owned())];
        assert_eq!(
            sent(&HeaderMap::new(), &trailers),
            vec![("sha1", "Kq5s".to_owned())]
        );
    }
}
