//! The incremental `aws-chunked` decoder behind [`super::Unchunked`]: a state machine fed
//! the inner body's frames, split anywhere, that hands out payload slices of them.

use std::task::Poll;

use bytes::{Buf, Bytes};
use http::StatusCode;
use http_body::Frame;

use crate::body::BodyError;
use crate::checksum::Running;
use crate::error::S3Error;

/// The longest chunk header or trailer line accepted, without its CRLF.
const MAX_LINE: usize = 4096;

fn malformed(what: impl std::fmt::Display) -> S3Error {
    S3Error::new(
        "IncompleteBody",
        StatusCode::BAD_REQUEST,
        format!("malformed aws-chunked body: {what}"),
    )
}

/// Where the decoder is in the framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
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
    /// The body was verified; the held-back bytes are next.
    Verified,
    /// The body has ended, successfully or not.
    Ended,
}

/// The incremental `aws-chunked` decoder.
#[derive(Debug)]
pub(super) struct Decoder {
    pub(super) state: State,
    /// Input not yet decoded (a slice of the inner body's last frame).
    pub(super) input: Bytes,
    /// The header or trailer line read so far, without its line end.
    line: Vec<u8>,
    /// `x-amz-decoded-content-length`.
    pub(super) declared: u64,
    /// Payload bytes decoded so far.
    pub(super) decoded: u64,
    /// The last payload bytes, sent once the body is verified.
    pub(super) held: Option<Bytes>,
    /// The announced checksum trailer's hasher, and the value the trailer gave.
    checksum: Option<Running>,
    trailer_value: Option<String>,
}

impl Decoder {
    pub(super) fn new(declared: u64, checksum: Option<Running>) -> Self {
        Self {
            state: State::Header,
            input: Bytes::new(),
            line: Vec::new(),
            declared,
            decoded: 0,
            held: None,
            checksum,
            trailer_value: None,
        }
    }

    /// Decodes `self.input` up to the next payload slice; `None` once the input is used.
    pub(super) fn next_data(&mut self) -> Result<Option<Bytes>, S3Error> {
        while !self.input.is_empty() {
            match self.state {
                State::Header | State::Trailers => {
                    if self.take_line()? {
                        let line = std::mem::take(&mut self.line);
                        let result = if self.state == State::Header {
                            self.chunk_header(&line)
                        } else {
                            self.trailer(&line)
                        };
                        self.line = line;
                        self.line.clear();
                        result?;
                    }
                }
                State::Data(left) => {
                    let n = left.min(self.input.len() as u64);
                    // `n` is at most `self.input.len()`, a usize.
                    let data = self
                        .input
                        .split_to(usize::try_from(n).unwrap_or(usize::MAX));
                    self.state = if n == left {
                        State::DataEnd(0)
                    } else {
                        State::Data(left - n)
                    };
                    self.decoded += n;
                    if let Some(checksum) = &mut self.checksum {
                        checksum.update(&data);
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
                State::Done | State::Verified | State::Ended => {
                    return Err(malformed("data after the end of the body"));
                }
            }
        }
        Ok(None)
    }

    /// Moves input into `self.line` up to a line end; whether the line is complete.
    fn take_line(&mut self) -> Result<bool, S3Error> {
        let (taken, complete) = match self.input.iter().position(|&b| b == b'\n') {
            Some(pos) => (pos + 1, true),
            None => (self.input.len(), false),
        };
        let piece = self.input.split_to(taken);
        self.line.extend_from_slice(&piece);
        if self.line.len() > MAX_LINE + 2 {
            return Err(malformed(format!(
                "chunk header or trailer longer than {MAX_LINE} bytes"
            )));
        }
        if complete {
            if !self.line.ends_with(b"\r\n") {
                return Err(malformed("line ends with LF instead of CRLF"));
            }
            self.line.truncate(self.line.len() - 2);
        }
        Ok(complete)
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<(), S3Error> {
        let size_field = line.split(|&b| b == b';').next().unwrap_or_default();
        let size_field = size_field.trim_ascii();
        let size = std::str::from_utf8(size_field)
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| {
                malformed(format!(
                    "chunk size {:?} is not hexadecimal",
                    String::from_utf8_lossy(size_field)
                ))
            })?;
        if size == 0 {
            self.state = State::Trailers;
        } else if self.decoded.saturating_add(size) > self.declared {
            return Err(self.length_error("more than"));
        } else {
            self.state = State::Data(size);
        }
        Ok(())
    }

    fn trailer(&mut self, line: &[u8]) -> Result<(), S3Error> {
        if line.is_empty() {
            self.state = State::Done;
            return Ok(());
        }
        let text = std::str::from_utf8(line).map_err(|_| malformed("trailer is not text"))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed(format!("trailer {text:?} has no colon")))?;
        let name = name.trim().to_ascii_lowercase();
        let Some(algorithm) = name.strip_prefix("x-amz-checksum-") else {
            // `x-amz-trailer-signature` was checked by the SigV4 layer in front.
            return Ok(());
        };
        match &self.checksum {
            Some(c) if c.algorithm() == algorithm => {
                if self.trailer_value.is_some() {
                    return Err(malformed(format!("trailer {name} appears twice")));
                }
                self.trailer_value = Some(value.trim().to_owned());
                Ok(())
            }
            _ => Err(malformed(format!(
                "trailer {name} was not announced in x-amz-trailer"
            ))),
        }
    }

    fn length_error(&self, relation: &str) -> S3Error {
        S3Error::new(
            "IncompleteBody",
            StatusCode::BAD_REQUEST,
            format!(
                "the aws-chunked body holds {relation} the {} bytes \
                 x-amz-decoded-content-length announces",
                self.declared
            ),
        )
    }

    /// Checks the body once the inner body has ended.
    pub(super) fn finish(&mut self) -> Result<(), S3Error> {
        match self.state {
            State::Done => {}
            State::Trailers => {
                // Some clients end the body after the last trailer or the final chunk.
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !line.is_empty() {
                    self.trailer(&line)?;
                }
            }
            _ => {
                return Err(S3Error::new(
                    "IncompleteBody",
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the aws-chunked body ended before its final chunk ({} of {} bytes)",
                        self.decoded, self.declared
                    ),
                ));
            }
        }
        if self.decoded != self.declared {
            return Err(self.length_error("fewer than"));
        }
        if let Some(checksum) = self.checksum.take() {
            let algorithm = checksum.algorithm();
            let sent = self.trailer_value.take().ok_or_else(|| {
                malformed(format!(
                    "the announced trailer x-amz-checksum-{algorithm} is missing"
                ))
            })?;
            if checksum.finish() != sent {
                return Err(S3Error::new(
                    "BadDigest",
                    StatusCode::BAD_REQUEST,
                    format!(
                        "The {} you specified did not match the calculated checksum.",
                        algorithm.to_uppercase()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn fail(&mut self, error: S3Error) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.state = State::Ended;
        self.held = None;
        Poll::Ready(Some(Err(BodyError::new(error))))
    }
}
