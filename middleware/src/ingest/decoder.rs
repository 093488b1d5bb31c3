//! The one `aws-chunked` decoder: a state machine fed the body's frames, split anywhere,
//! that hands out payload slices of them and collects the trailer lines.
//!
//! Layout: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` repeated, a final chunk of
//! size 0, then trailer lines (`x-amz-checksum-crc32:<b64>\r\n`, and for signed bodies
//! `x-amz-trailer-signature:<sig>\r\n`) and an empty line. With [`ChunkSigning`] every
//! chunk signature and the trailer signature are checked as the chunks complete; only one
//! chunk header or trailer line is held at a time.

use bytes::{Buf, Bytes};
use sha2::{Digest, Sha256};

use super::errors::malformed;
use crate::s3::error::S3Error;
use crate::sigv4::chunked::ChunkSigning;

/// The longest chunk header or trailer line accepted, without its CRLF.
const MAX_LINE: usize = 4096;
/// The most trailer lines accepted.
const MAX_TRAILERS: usize = 16;
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";
/// SHA-256 of the empty string: the data hash of the final chunk.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Where the decoder is in the framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data, with this many bytes of its CRLF seen.
    DataEnd(usize),
    /// Reading trailer lines (after the final, empty chunk).
    Trailers,
    /// After the empty line that ends the trailers.
    Done,
}

/// The incremental `aws-chunked` decoder.
#[derive(Debug)]
pub(crate) struct Decoder {
    state: State,
    /// Input not yet decoded (a slice of the body's last frame).
    input: Bytes,
    /// The header or trailer line read so far.
    line: Vec<u8>,
    /// Chunk signatures are checked with this, when the body is signed.
    signing: Option<ChunkSigning>,
    /// The current chunk's data hash and its signature (signed bodies).
    chunk: Option<(Sha256, String)>,
    /// Trailer lines but the signature, names lower-cased, values trimmed.
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

impl Decoder {
    /// A decoder; with `signing`, every chunk and the trailer must be signed.
    pub(crate) fn new(signing: Option<ChunkSigning>) -> Self {
        Self {
            state: State::Header,
            input: Bytes::new(),
            line: Vec::new(),
            signing,
            chunk: None,
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Gives the decoder the next piece of the body (once the previous one is used up).
    pub(crate) fn push(&mut self, input: Bytes) {
        debug_assert!(
            self.input.is_empty(),
            "input pushed before the last was used"
        );
        self.input = input;
    }

    /// Decodes the input up to the next payload slice; `None` once the input is used up.
    pub(crate) fn next_data(&mut self) -> Result<Option<Bytes>, S3Error> {
        while !self.input.is_empty() {
            match self.state {
                State::Header | State::Trailers => {
                    if let Some(line) = self.take_line()? {
                        if self.state == State::Header {
                            self.chunk_header(&line)?;
                        } else {
                            self.trailer(&line)?;
                        }
                    }
                }
                State::Data(left) => {
                    let n = left.min(self.input.len() as u64);
                    // `n` is at most `self.input.len()`, a usize.
                    let data = self
                        .input
                        .split_to(usize::try_from(n).unwrap_or(usize::MAX));
                    if let Some((hasher, _)) = &mut self.chunk {
                        hasher.update(&data);
                    }
                    if n == left {
                        self.state = State::DataEnd(0);
                        self.end_chunk()?;
                    } else {
                        self.state = State::Data(left - n);
                    }
                    return Ok(Some(data));
                }
                State::DataEnd(seen) => {
                    if self.input[0] != b"\r\n"[seen] {
                        return Err(malformed("chunk data is not followed by CRLF"));
                    }
                    self.input.advance(1);
                    self.state = if seen == 1 {
                        State::Header
                    } else {
                        State::DataEnd(1)
                    };
                }
                State::Done => return Err(malformed("data after the end of the body")),
            }
        }
        Ok(None)
    }

    /// The line up to a line end (without the CRLF), once it is complete.
    fn take_line(&mut self) -> Result<Option<Vec<u8>>, S3Error> {
        let (taken, complete) = match self.input.iter().position(|&b| b == b'\n') {
            Some(pos) => (pos + 1, true),
            None => (self.input.len(), false),
        };
        if self.line.len() + taken > MAX_LINE + 2 {
            return Err(malformed(format!(
                "chunk header or trailer longer than {MAX_LINE} bytes"
            )));
        }
        let piece = self.input.split_to(taken);
        self.line.extend_from_slice(&piece);
        if !complete {
            return Ok(None);
        }
        let mut line = std::mem::take(&mut self.line);
        if !line.ends_with(b"\r\n") {
            return Err(malformed("line ends with LF instead of CRLF"));
        }
        line.truncate(line.len() - 2);
        Ok(Some(line))
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<(), S3Error> {
        let text = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not text"))?;
        let (size_field, extension) = match text.split_once(';') {
            Some((size, extension)) => (size.trim(), Some(extension.trim())),
            None => (text.trim(), None),
        };
        let size = Some(size_field)
            .filter(|s| !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| malformed(format!("chunk size {size_field:?} is not hexadecimal")))?;
        if self.signing.is_some() {
            let signature = extension
                .and_then(|e| e.strip_prefix("chunk-signature="))
                .ok_or_else(|| malformed("chunk header without chunk-signature"))?;
            self.chunk = Some((Sha256::new(), signature.to_owned()));
        }
        if size == 0 {
            self.state = State::Trailers;
            self.end_chunk()
        } else {
            self.state = State::Data(size);
            Ok(())
        }
    }

    /// Checks the signature of the chunk just read (signed bodies).
    fn end_chunk(&mut self) -> Result<(), S3Error> {
        let (Some(signing), Some((hasher, signature))) = (&mut self.signing, self.chunk.take())
        else {
            return Ok(());
        };
        let hash = hasher.finalize();
        let hash = if self.state == State::Trailers {
            EMPTY_SHA256.to_owned()
        } else {
            hex::encode(hash)
        };
        signing.verify_chunk(&hash, &signature)
    }

    fn trailer(&mut self, line: &[u8]) -> Result<(), S3Error> {
        if line.is_empty() {
            self.state = State::Done;
            return Ok(());
        }
        if self.trailers.len() >= MAX_TRAILERS {
            return Err(malformed("too many trailer lines"));
        }
        let text = std::str::from_utf8(line).map_err(|_| malformed("trailer is not text"))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed(format!("trailer {text:?} has no colon")))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name == TRAILER_SIGNATURE {
            if self.trailer_signature.replace(value).is_some() {
                return Err(malformed("two trailer signatures"));
            }
        } else if self.trailers.iter().any(|(n, _)| *n == name) {
            return Err(malformed(format!("trailer {name} appears twice")));
        } else {
            self.trailers.push((name, value));
        }
        Ok(())
    }

    /// Checks the framing once the body has ended; the trailer lines (signature checked).
    pub(crate) fn finish(&mut self) -> Result<Vec<(String, String)>, S3Error> {
        match self.state {
            State::Done => {}
            State::Trailers => {
                // Some clients end the body after the last trailer or the final chunk.
                let mut line = std::mem::take(&mut self.line);
                if line.ends_with(b"\r") {
                    line.pop();
                }
                if !line.is_empty() {
                    self.trailer(&line)?;
                }
            }
            State::Header | State::Data(_) | State::DataEnd(_) => {
                return Err(malformed("the body ended before its final chunk"));
            }
        }
        let trailers = std::mem::take(&mut self.trailers);
        if let Some(signing) = &self.signing {
            match (signing.has_trailer(), self.trailer_signature.take()) {
                (true, Some(signature)) => signing.verify_trailer(&trailers, &signature)?,
                (true, None) => return Err(malformed("no x-amz-trailer-signature")),
                (false, signature) if !trailers.is_empty() || signature.is_some() => {
                    return Err(malformed("trailers in a body signed without them"));
                }
                (false, _) => {}
            }
        }
        Ok(trailers)
    }
}
