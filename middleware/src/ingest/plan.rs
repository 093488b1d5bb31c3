//! Reading a request head: how its body is framed, what it must be checked against, and
//! the head the services behind see (a plain body of known length).

use deltaglider_codec::Md5;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, header};
use sha2::{Digest, Sha256};

use super::errors::{invalid_md5, metadata_too_large, missing_length};
use super::verify::{Expected, Verifier};
use crate::s3::checksum::{ALGORITHMS, Running};
use crate::s3::content_md5::is_base64_md5;
use crate::s3::error::S3Error;
use crate::s3::metadata::{MAX_USER_METADATA, user_metadata_size};
use crate::sigv4::chunked::{ChunkSigning, SignedPayload};

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// What ingesting one request's body takes.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `Some` for an `aws-chunked` body: the chunk-signing material, if it is signed and
    /// a signature was verified in front.
    pub(crate) chunked: Option<Option<ChunkSigning>>,
    pub(crate) verifier: Verifier,
}

/// Checks the head of a request and plans the ingest of its body. `parts` is rewritten
/// for the services behind: `Transfer-Encoding`, `x-amz-decoded-content-length` and
/// `x-amz-trailer` removed, `aws-chunked` taken out of `Content-Encoding`,
/// `x-amz-content-sha256` the payload's hex SHA-256 when known (else `UNSIGNED-PAYLOAD`).
/// `Content-Length` is set by the caller once the length is known.
pub(crate) fn plan(parts: &mut Parts, body_length: Option<u64>) -> Result<Plan, S3Error> {
    let headers = &parts.headers;
    if headers.contains_key(header::CONTENT_LENGTH)
        && headers.contains_key(header::TRANSFER_ENCODING)
    {
        return Err(S3Error::invalid_request(
            "Content-Length and Transfer-Encoding may not be sent together.",
        ));
    }
    check_metadata(headers)?;
    let signed = parts.extensions.get::<SignedPayload>().cloned();
    let content_sha256 = single(headers, "x-amz-content-sha256")?;
    let chunked = is_aws_chunked(headers);
    let mut verifier = Verifier::default();

    let sha256 = match (&signed, content_sha256) {
        (Some(SignedPayload::Sha256(expected)), _) => Some(*expected),
        (_, Some(value)) if value != UNSIGNED_PAYLOAD && !value.starts_with("STREAMING-") => {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(value, &mut digest).map_err(|_| {
                S3Error::invalid_argument(
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* form \
                     with an aws-chunked body, or a valid sha256 value.",
                )
            })?;
            Some(digest)
        }
        _ => None,
    };
    verifier.sha256 = sha256.map(|expected| (Sha256::new(), expected));

    verifier.declared = if chunked {
        let declared =
            single(headers, "x-amz-decoded-content-length")?.ok_or_else(missing_length)?;
        Some(parse_length(declared, "x-amz-decoded-content-length")?)
    } else {
        match single(headers, header::CONTENT_LENGTH.as_str())? {
            Some(value) => Some(parse_length(value, "Content-Length")?),
            None => body_length,
        }
    };
    if verifier.declared.is_none() && parts.method == Method::PUT {
        return Err(missing_length());
    }

    if let Some(value) = single(headers, "content-md5")? {
        let value = value.trim();
        if !is_base64_md5(value.as_bytes()) {
            return Err(invalid_md5());
        }
        verifier.md5 = Some((Md5::new(), value.to_owned()));
    }
    verifier.checksum = expected_checksum(parts, chunked)?;

    let signing = match signed {
        Some(SignedPayload::Chunked(signing)) => Some(signing),
        _ => None,
    };
    let chunked = chunked.then_some(signing);
    rewrite(&mut parts.headers, sha256);
    Ok(Plan { chunked, verifier })
}

/// Whether the request body is `aws-chunked`.
pub(crate) fn is_aws_chunked(headers: &HeaderMap) -> bool {
    let encoded = headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|e| e.trim().eq_ignore_ascii_case("aws-chunked"))
        });
    let streaming = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    encoded || streaming
}

/// The value of a header that may appear at most once.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, S3Error> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(S3Error::invalid_request(format!(
            "The header {name} may be sent only once."
        )));
    }
    first
        .to_str()
        .map(|v| Some(v.trim()))
        .map_err(|_| S3Error::invalid_argument(format!("The header {name} is not text.")))
}

fn parse_length(value: &str, name: &str) -> Result<u64, S3Error> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(S3Error::invalid_argument(format!("{name} is not a number")));
    }
    value
        .parse()
        .map_err(|_| S3Error::invalid_argument(format!("{name} is not a number")))
}

/// User metadata over [`MAX_USER_METADATA`] is refused before any byte is read.
fn check_metadata(headers: &HeaderMap) -> Result<(), S3Error> {
    let total = user_metadata_size(headers);
    if total > MAX_USER_METADATA {
        return Err(metadata_too_large(total, MAX_USER_METADATA));
    }
    Ok(())
}

/// The one `x-amz-checksum-*` the payload must match: from a header, or announced by
/// `x-amz-trailer`. Two of them (headers, or a header and a trailer of different
/// algorithms) are refused, as S3 does.
fn expected_checksum(parts: &Parts, chunked: bool) -> Result<Option<Expected>, S3Error> {
    let headers = &parts.headers;
    // CompleteMultipartUpload's checksum headers are the whole object's, not its body's.
    let completes = parts.method == Method::POST
        && parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("uploadId=")));
    let mut found: Option<Expected> = None;
    let too_many = || {
        S3Error::invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        )
    };
    if !completes {
        for algorithm in ALGORITHMS {
            let name = format!("x-amz-checksum-{algorithm}");
            let Some(value) = single(headers, &name).map_err(|_| too_many())? else {
                continue;
            };
            if found.is_some() {
                return Err(too_many());
            }
            found = Some(Expected {
                running: Running::new(algorithm)
                    .ok_or_else(|| S3Error::internal("unknown checksum algorithm"))?,
                header: Some(value.to_owned()),
                trailer: false,
            });
        }
    }
    let mut announced: Option<&'static str> = None;
    for value in headers.get_all("x-amz-trailer") {
        let value = value
            .to_str()
            .map_err(|_| S3Error::invalid_argument("x-amz-trailer is not text"))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_ascii_lowercase();
            let algorithm = name
                .strip_prefix("x-amz-checksum-")
                .and_then(|alg| ALGORITHMS.iter().find(|a| **a == alg))
                .ok_or_else(|| {
                    S3Error::invalid_argument(format!("unsupported x-amz-trailer: {name}"))
                })?;
            if announced.is_some() {
                return Err(too_many());
            }
            announced = Some(algorithm);
        }
    }
    let Some(algorithm) = announced else {
        return Ok(found);
    };
    if !chunked {
        return Err(S3Error::invalid_request(
            "x-amz-trailer needs an aws-chunked body to carry the trailer.",
        ));
    }
    match &mut found {
        Some(header) if header.running.algorithm() != algorithm => Err(too_many()),
        Some(header) => {
            header.trailer = true;
            Ok(found)
        }
        None => Ok(Some(Expected {
            running: Running::new(algorithm)
                .ok_or_else(|| S3Error::internal("unknown checksum algorithm"))?,
            header: None,
            trailer: true,
        })),
    }
}

/// The head the services behind see: no framing headers, a payload hash they can use.
fn rewrite(headers: &mut HeaderMap, sha256: Option<[u8; 32]>) {
    for name in ["x-amz-decoded-content-length", "x-amz-trailer"] {
        headers.remove(name);
    }
    headers.remove(header::TRANSFER_ENCODING);
    let kept: Vec<HeaderValue> = headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .filter_map(|value| {
            let Ok(text) = value.to_str() else {
                return Some(value.clone());
            };
            let rest: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            HeaderValue::from_str(&rest.join(", "))
                .ok()
                .filter(|v| !v.is_empty())
        })
        .collect();
    headers.remove(header::CONTENT_ENCODING);
    for value in kept {
        headers.append(header::CONTENT_ENCODING, value);
    }
    let hash = match sha256 {
        Some(digest) => HeaderValue::from_str(&hex::encode(digest)),
        None => Ok(HeaderValue::from_static(UNSIGNED_PAYLOAD)),
    };
    if let Ok(hash) = hash {
        headers.insert("x-amz-content-sha256", hash);
    }
}
