//! The signature math of signed `aws-chunked` bodies (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
//! and `…-PAYLOAD-TRAILER`): each chunk's signature chains on the previous one, starting
//! from the request's own; the trailer signature covers the trailer lines.
//!
//! [`SigV4`](super::SigV4) hands a [`ChunkSigning`] to the body ingest in the request's
//! extensions; the framing itself is parsed there, by the one `aws-chunked` decoder.

use std::fmt;

use super::canonical::{EMPTY_SHA256, SigningKey, sha256_hex, signatures_match};
use super::errors::chunk_signature_mismatch;
use crate::s3::error::S3Error;

const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";
const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";

/// What the chunk and trailer signatures of a signed `aws-chunked` body are checked with:
/// the request's signing key, date, scope and seed signature.
#[derive(Clone)]
pub(crate) struct ChunkSigning {
    key: SigningKey,
    amz_date: String,
    scope: String,
    /// The signature the next chunk chains on.
    previous: String,
    /// Whether the body ends with trailers and `x-amz-trailer-signature`.
    trailer: bool,
}

impl fmt::Debug for ChunkSigning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigning")
            .field("scope", &self.scope)
            .field("trailer", &self.trailer)
            .finish_non_exhaustive()
    }
}

impl ChunkSigning {
    /// Signing material seeded with the request's signature.
    pub(crate) fn new(
        key: SigningKey,
        amz_date: String,
        scope: String,
        seed_signature: String,
        trailer: bool,
    ) -> Self {
        Self {
            key,
            amz_date,
            scope,
            previous: seed_signature,
            trailer,
        }
    }

    /// Signing material for `secret` in `region` at `amz_date` (`yyyymmddThhmmssZ`), for
    /// tests that sign bodies themselves.
    #[cfg(test)]
    pub(crate) fn for_tests(
        secret: &str,
        amz_date: &str,
        region: &str,
        seed_signature: &str,
        trailer: bool,
    ) -> Self {
        let date = &amz_date[..8];
        let key = SigningKey::derive(secret, date, region, "s3").expect("signing key");
        let scope = format!("{date}/{region}/s3/aws4_request");
        Self::new(
            key,
            amz_date.to_owned(),
            scope,
            seed_signature.to_owned(),
            trailer,
        )
    }

    /// Whether the body must end with a signed trailer.
    pub(crate) fn has_trailer(&self) -> bool {
        self.trailer
    }

    /// Checks the signature of the next chunk, whose data hashes to `data_sha256` (hex;
    /// the final, empty chunk hashes to the empty string's SHA-256).
    pub(crate) fn verify_chunk(
        &mut self,
        data_sha256: &str,
        signature: &str,
    ) -> Result<(), S3Error> {
        let string_to_sign = format!(
            "{CHUNK_ALGORITHM}\n{}\n{}\n{}\n{EMPTY_SHA256}\n{data_sha256}",
            self.amz_date, self.scope, self.previous
        );
        let expected = self.key.sign(string_to_sign.as_bytes())?;
        if !signatures_match(&expected, signature) {
            return Err(chunk_signature_mismatch("chunk"));
        }
        self.previous = expected;
        Ok(())
    }

    /// Checks `x-amz-trailer-signature` over the other trailer lines (names lower-cased,
    /// values trimmed), after the final chunk.
    pub(crate) fn verify_trailer(
        &self,
        trailers: &[(String, String)],
        signature: &str,
    ) -> Result<(), S3Error> {
        let mut sorted: Vec<&(String, String)> = trailers.iter().collect();
        sorted.sort();
        let canonical: String = sorted
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect();
        let string_to_sign = format!(
            "{TRAILER_ALGORITHM}\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            sha256_hex(canonical.as_bytes())
        );
        let expected = self.key.sign(string_to_sign.as_bytes())?;
        if !signatures_match(&expected, signature) {
            return Err(chunk_signature_mismatch("trailer"));
        }
        Ok(())
    }
}

/// What the signature of a request says its body must be, handed to the body ingest in
/// the request's extensions.
#[derive(Debug, Clone)]
pub(crate) enum SignedPayload {
    /// The SHA-256 of the whole payload (`x-amz-content-sha256` or a presigned URL's
    /// `X-Amz-Content-Sha256`).
    Sha256([u8; 32]),
    /// A signed `aws-chunked` body.
    Chunked(ChunkSigning),
}
