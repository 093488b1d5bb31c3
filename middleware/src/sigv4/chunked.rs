//! Checking the chunk and trailer signatures of a signed `aws-chunked` body as it streams.
//!
//! Layout: `<hex size>;chunk-signature=<sig>\r\n<data>\r\n` repeated, a final chunk of size
//! 0, then either `\r\n` (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) or trailer lines ending in
//! `x-amz-trailer-signature:<sig>\r\n` and `\r\n` (`…-PAYLOAD-TRAILER`). Each chunk's
//! signature chains on the previous one, starting from the request's own signature.
//! Only one chunk header or trailer line is held at a time; data is hashed as it passes.

use sha2::{Digest, Sha256};

use super::canonical::{EMPTY_SHA256, SigningKey, sha256_hex, signatures_match};
use super::errors::{chunk_signature_mismatch, incomplete_body};
use crate::error::S3Error;

const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";
const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";
/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Where the parser is.
enum State {
    /// Reading a chunk header line.
    Header,
    /// Inside a chunk's data.
    Data {
        remaining: u64,
        hasher: Sha256,
        signature: String,
    },
    /// Expecting the `\r\n` after a chunk's data (`seen` bytes of it so far).
    DataEnd { seen: usize },
    /// Reading trailer lines, after the final chunk.
    Trailers,
    /// Expecting the `\r\n` after the final chunk (no trailers).
    FinalEnd { seen: usize },
    /// Everything checked.
    Done,
}

/// Verifies a signed `aws-chunked` body fed to it piece by piece.
pub(crate) struct ChunkVerifier {
    key: SigningKey,
    amz_date: String,
    scope: String,
    /// The signature the next chunk chains on.
    previous: String,
    trailer: bool,
    state: State,
    line: Vec<u8>,
    decoded: u64,
    decoded_length: Option<u64>,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

impl std::fmt::Debug for ChunkVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkVerifier")
            .field("trailer", &self.trailer)
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}

fn malformed(what: &str) -> S3Error {
    incomplete_body(&format!("malformed aws-chunked body: {what}"))
}

impl ChunkVerifier {
    /// A verifier seeded with the request's signature.
    pub(crate) fn new(
        key: SigningKey,
        amz_date: String,
        scope: String,
        seed_signature: String,
        trailer: bool,
        decoded_length: Option<u64>,
    ) -> Self {
        Self {
            key,
            amz_date,
            scope,
            previous: seed_signature,
            trailer,
            state: State::Header,
            line: Vec::new(),
            decoded: 0,
            decoded_length,
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Feeds the next bytes of the body.
    pub(crate) fn update(&mut self, mut data: &[u8]) -> Result<(), S3Error> {
        while let Some(&first) = data.first() {
            match &mut self.state {
                State::Header | State::Trailers => {
                    let newline = data.iter().position(|&b| b == b'\n');
                    let taken = newline.map_or(data.len(), |i| i + 1);
                    if self.line.len() + taken > MAX_LINE {
                        return Err(malformed("chunk header or trailer line too long"));
                    }
                    self.line.extend_from_slice(&data[..taken]);
                    data = &data[taken..];
                    if newline.is_some() {
                        let line = std::mem::take(&mut self.line);
                        let line = line
                            .strip_suffix(b"\r\n")
                            .ok_or_else(|| malformed("line not ended by CRLF"))?;
                        if matches!(self.state, State::Header) {
                            self.chunk_header(line)?;
                        } else {
                            self.trailer_line(line)?;
                        }
                    }
                }
                State::Data {
                    remaining, hasher, ..
                } => {
                    let n = usize::try_from(*remaining).map_or(data.len(), |r| r.min(data.len()));
                    hasher.update(&data[..n]);
                    *remaining -= n as u64;
                    self.decoded += n as u64;
                    data = &data[n..];
                    if *remaining == 0 {
                        self.end_chunk()?;
                    }
                }
                State::DataEnd { seen } | State::FinalEnd { seen } => {
                    if first != b"\r\n"[*seen] {
                        return Err(malformed("chunk data not followed by CRLF"));
                    }
                    *seen += 1;
                    data = &data[1..];
                    if *seen == 2 {
                        self.state = match self.state {
                            State::DataEnd { .. } => State::Header,
                            _ => State::Done,
                        };
                    }
                }
                State::Done => return Err(malformed("data after the end of the body")),
            }
        }
        Ok(())
    }

    /// The body ended: checks that it ended where it may.
    pub(crate) fn finish(&mut self) -> Result<(), S3Error> {
        match self.state {
            // Some clients stop right after the final chunk or the last trailer line.
            State::Done | State::FinalEnd { .. } => {}
            State::Trailers => {
                let line = std::mem::take(&mut self.line);
                let line = line.strip_suffix(b"\r").unwrap_or(&line);
                if !line.is_empty() {
                    self.trailer_line(line)?;
                }
                if !matches!(self.state, State::Done) {
                    self.verify_trailers()?;
                }
            }
            State::Header | State::Data { .. } | State::DataEnd { .. } => {
                return Err(malformed("the body ended before the final chunk"));
            }
        }
        self.state = State::Done;
        if let Some(declared) = self.decoded_length.filter(|&n| n != self.decoded) {
            return Err(incomplete_body(&format!(
                "x-amz-decoded-content-length is {declared}, the chunks hold {} bytes",
                self.decoded
            )));
        }
        Ok(())
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<(), S3Error> {
        let line = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not text"))?;
        let (size, extension) = line
            .split_once(';')
            .ok_or_else(|| malformed("chunk header without chunk-signature"))?;
        let size = size.trim();
        if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("chunk size is not hexadecimal"));
        }
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| malformed("chunk size is not hexadecimal"))?;
        let signature = extension
            .trim()
            .strip_prefix("chunk-signature=")
            .ok_or_else(|| malformed("chunk header without chunk-signature"))?
            .to_owned();
        if size > 0 {
            self.state = State::Data {
                remaining: size,
                hasher: Sha256::new(),
                signature,
            };
            return Ok(());
        }
        self.verify_chunk(EMPTY_SHA256, &signature)?;
        self.state = if self.trailer {
            State::Trailers
        } else {
            State::FinalEnd { seen: 0 }
        };
        Ok(())
    }

    fn end_chunk(&mut self) -> Result<(), S3Error> {
        let State::Data {
            hasher, signature, ..
        } = std::mem::replace(&mut self.state, State::DataEnd { seen: 0 })
        else {
            return Err(S3Error::internal("aws-chunked parser out of step"));
        };
        self.verify_chunk(&hex::encode(hasher.finalize()), &signature)
    }

    fn verify_chunk(&mut self, data_hash: &str, signature: &str) -> Result<(), S3Error> {
        let string_to_sign = format!(
            "{CHUNK_ALGORITHM}\n{}\n{}\n{}\n{EMPTY_SHA256}\n{data_hash}",
            self.amz_date, self.scope, self.previous
        );
        let expected = self.key.sign(string_to_sign.as_bytes())?;
        if !signatures_match(&expected, signature) {
            return Err(chunk_signature_mismatch("chunk"));
        }
        self.previous = expected;
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), S3Error> {
        if line.is_empty() {
            self.verify_trailers()?;
            self.state = State::Done;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| malformed("trailer is not text"))?;
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed("trailer without a colon"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name == TRAILER_SIGNATURE {
            if self.trailer_signature.replace(value).is_some() {
                return Err(malformed("two trailer signatures"));
            }
        } else {
            self.trailers.push((name, value));
        }
        Ok(())
    }

    fn verify_trailers(&mut self) -> Result<(), S3Error> {
        let signature = self
            .trailer_signature
            .take()
            .ok_or_else(|| malformed("no x-amz-trailer-signature"))?;
        let mut trailers = std::mem::take(&mut self.trailers);
        trailers.sort();
        let canonical: String = trailers
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
        if !signatures_match(&expected, &signature) {
            return Err(chunk_signature_mismatch("trailer"));
        }
        Ok(())
    }
}
