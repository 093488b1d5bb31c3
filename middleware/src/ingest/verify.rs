//! Every check of a request's payload, fed the decoded bytes as they pass: length,
//! `x-amz-content-sha256`, `Content-MD5`, `x-amz-checksum-*` (header or trailer).

use deltaglider_codec::Md5;
use sha2::{Digest, Sha256};

use super::errors::{
    checksum_mismatch, content_sha256_mismatch, incomplete, malformed, md5_mismatch,
};
use crate::s3::checksum::Running;
use crate::s3::content_md5::base64_encode;
use crate::s3::error::S3Error;

/// A checksum the payload must have: its running hash, and where the value comes from.
#[derive(Debug)]
pub(crate) struct Expected {
    pub(crate) running: Running,
    /// The value of the `x-amz-checksum-*` header, if it was sent as a header.
    pub(crate) header: Option<String>,
    /// Whether `x-amz-trailer` announced it as a trailer.
    pub(crate) trailer: bool,
}

/// The running checks of one payload.
#[derive(Debug, Default)]
pub(crate) struct Verifier {
    /// The payload length the request declared.
    pub(crate) declared: Option<u64>,
    received: u64,
    pub(crate) sha256: Option<(Sha256, [u8; 32])>,
    pub(crate) md5: Option<(Md5, String)>,
    pub(crate) checksum: Option<Expected>,
}

impl Verifier {
    /// Payload bytes received so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Feeds the next payload bytes.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<(), S3Error> {
        self.received += data.len() as u64;
        if let Some(declared) = self.declared.filter(|&n| self.received > n) {
            return Err(incomplete(format!(
                "the body holds more than the {declared} bytes the request declared"
            )));
        }
        if let Some((hasher, _)) = &mut self.sha256 {
            hasher.update(data);
        }
        if let Some((hasher, _)) = &mut self.md5 {
            hasher.update(data);
        }
        if let Some(expected) = &mut self.checksum {
            expected.running.update(data);
        }
        Ok(())
    }

    /// Runs every check once the payload has ended; `trailers` are the `aws-chunked`
    /// trailer lines. Returns the verified trailer checksum (algorithm, base64 value), to
    /// be passed on as an ordinary checksum.
    pub(crate) fn finish(
        &mut self,
        trailers: &[(String, String)],
    ) -> Result<Option<(&'static str, String)>, S3Error> {
        if let Some(declared) = self.declared.filter(|&n| n != self.received) {
            return Err(incomplete(format!(
                "the body holds {} of the {declared} bytes the request declared",
                self.received
            )));
        }
        if let Some((hasher, expected)) = self.sha256.take()
            && hasher.finalize().as_slice() != expected.as_slice()
        {
            return Err(content_sha256_mismatch());
        }
        if let Some((hasher, expected)) = self.md5.take()
            && base64_encode(hasher.finish().as_bytes()) != expected
        {
            return Err(md5_mismatch());
        }
        let announced = self.checksum.as_ref().filter(|e| e.trailer);
        for (name, _) in trailers {
            let is_announced = announced.is_some_and(|e| {
                name.strip_prefix("x-amz-checksum-") == Some(e.running.algorithm())
            });
            if !is_announced {
                return Err(malformed(format!(
                    "trailer {name} was not announced in x-amz-trailer"
                )));
            }
        }
        let Some(expected) = self.checksum.take() else {
            return Ok(None);
        };
        let algorithm = expected.running.algorithm();
        let actual = expected.running.finish();
        if expected.header.as_deref().is_some_and(|h| h != actual) {
            return Err(checksum_mismatch(algorithm));
        }
        if !expected.trailer {
            return Ok(None);
        }
        let name = format!("x-amz-checksum-{algorithm}");
        let sent = trailers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                malformed(format!(
                    "the trailer {name} announced in x-amz-trailer is missing"
                ))
            })?;
        if *sent != actual {
            return Err(checksum_mismatch(algorithm));
        }
        Ok(Some((algorithm, actual)))
    }
}
