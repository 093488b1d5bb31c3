//! Window-by-window decoding with the reference read on demand.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::integrity::{Sha256, Sha256Digest};
use crate::pure::{self, Segment};
use crate::reference::ReferenceReader;
use crate::secondary::Expander;
use crate::vcdiff::{self, Window};

/// Decodes a delta pushed in arbitrary pieces, one target window at a time.
///
/// Memory stays at one window of delta (the framing bounds it to about 33 MiB), that
/// window's reference segment, and its output (at most 16 MiB), whatever the target size.
/// Every window's Adler-32 (when present) is checked before the window is returned, and
/// [`finish`](Self::finish) checks the total length and SHA-256. A caller streaming windows
/// onward must abort its output if any call fails, `finish` included.
///
/// Two ways to drive it: [`decode_next`](Self::decode_next) with a [`ReferenceReader`], or,
/// when reference reads are asynchronous, [`ready`](Self::ready) to learn which reference
/// range the next window needs, then [`decode_ready`](Self::decode_ready) with those bytes.
///
/// ```
/// use deltaglider_codec::{encode, EncodeOptions, StreamDecoder};
/// let reference = b"the quick brown fox jumps over the lazy dog".repeat(100);
/// let mut target = reference.clone();
/// target[1000..1005].copy_from_slice(b"HELLO");
/// let delta = encode(&reference, &target, &EncodeOptions::default())?.into_delta().unwrap();
///
/// let mut decoder = StreamDecoder::new(reference.len() as u64, target.len() as u64);
/// let mut out = Vec::new();
/// for piece in delta.chunks(7) {
///     decoder.push(piece)?;
///     while let Some(window) = decoder.decode_next(&mut &reference[..])? {
///         out.extend_from_slice(&window);
///     }
/// }
/// decoder.finish()?;
/// assert_eq!(out, target);
/// # Ok::<(), deltaglider_codec::Error>(())
/// ```
#[derive(Debug)]
pub struct StreamDecoder {
    reference_len: u64,
    expected_len: u64,
    expected_sha256: Option<Sha256Digest>,
    /// Delta bytes received and not yet decoded start at `buf[start..]`.
    buf: Vec<u8>,
    start: usize,
    /// Delta offset of `buf[0]`, for error positions.
    buf_offset: u64,
    header_done: bool,
    /// Set when the header names a secondary compressor (xdelta3 `-S`).
    expander: Option<Expander>,
    ready: Option<Window>,
    /// The ready window with its compressed sections expanded, when it has any.
    expanded: Option<(Window, Vec<u8>)>,
    windows: u64,
    produced: u64,
    sha256: Sha256,
    segment: Vec<u8>,
    failed: bool,
}

impl StreamDecoder {
    /// A decoder for a delta against a reference of `reference_len` bytes that must produce
    /// `expected_len` bytes.
    pub fn new(reference_len: u64, expected_len: u64) -> Self {
        Self {
            reference_len,
            expected_len,
            expected_sha256: None,
            buf: Vec::new(),
            start: 0,
            buf_offset: 0,
            header_done: false,
            expander: None,
            ready: None,
            expanded: None,
            windows: 0,
            produced: 0,
            sha256: Sha256::new(),
            segment: Vec::new(),
            failed: false,
        }
    }

    /// Makes [`finish`](Self::finish) fail unless the output has this SHA-256.
    pub fn expect_sha256(mut self, digest: Sha256Digest) -> Self {
        self.expected_sha256 = Some(digest);
        self
    }

    /// Bytes of target produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Feeds the next piece of the delta.
    pub fn push(&mut self, delta: &[u8]) -> Result<()> {
        self.check_alive()?;
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.buf_offset += self.start as u64;
            self.start = 0;
        }
        self.buf.extend_from_slice(delta);
        Ok(())
    }

    /// If a whole window is buffered, the reference range it reads (possibly empty);
    /// `None` when more delta is needed.
    pub fn ready(&mut self) -> Result<Option<Range<u64>>> {
        self.check_alive()?;
        let result = self.parse_ready();
        self.failed = result.is_err();
        result
    }

    fn parse_ready(&mut self) -> Result<Option<Range<u64>>> {
        if let Some(w) = &self.ready {
            return Ok(Some(w.reference_range()));
        }
        if !self.header_done {
            match vcdiff::file_header(&self.buf[self.start..])? {
                Some(header) => {
                    self.expander = header.compressor.map(Expander::new).transpose()?;
                    self.start += header.len;
                    self.header_done = true;
                }
                None => return Ok(None),
            }
        }
        let offset = self.buf_offset + self.start as u64;
        let rest = &self.buf[self.start..];
        let window = match self.expander {
            Some(_) => vcdiff::compressed_window(rest, offset, self.reference_len)?,
            None => vcdiff::window(rest, offset, self.reference_len)?,
        };
        let Some(window) = window else {
            return Ok(None);
        };
        if self.produced + window.target_len > self.expected_len {
            return Err(Error::LengthMismatch {
                expected: self.expected_len,
                actual: self.produced + window.target_len,
            });
        }
        if let Some(expander) = self.expander.as_mut().filter(|_| window.del_ind != 0) {
            let bytes = &self.buf[self.start..self.start + window.len];
            self.expanded = Some(expander.expand(&window, bytes, self.windows)?);
        }
        let range = window.reference_range();
        self.ready = Some(window);
        Ok(Some(range))
    }

    /// Decodes the window announced by [`ready`](Self::ready), given exactly the reference
    /// bytes of the range it returned.
    pub fn decode_ready(&mut self, reference_segment: &[u8]) -> Result<Vec<u8>> {
        self.check_alive()?;
        let result = self.decode_window(reference_segment);
        self.failed = result.is_err();
        result
    }

    fn decode_window(&mut self, segment: &[u8]) -> Result<Vec<u8>> {
        let window = self.ready.take().ok_or(Error::Finished(
            "stream decoder (decode_ready without a ready window)",
        ))?;
        if segment.len() as u64 != window.copy_len {
            return Err(Error::ReferenceTooShort {
                needed: window.copy_len,
                available: segment.len() as u64,
            });
        }
        let mut out = Vec::with_capacity(window.target_len as usize);
        let mut source = Segment {
            offset: window.copy_offset,
            bytes: segment,
        };
        match self.expanded.take() {
            Some((plain, sections)) => {
                pure::decode_window(&plain, &sections, &mut source, &mut out, self.windows)?;
            }
            None => {
                let bytes = &self.buf[self.start..self.start + window.len];
                pure::decode_window(&window, bytes, &mut source, &mut out, self.windows)?;
            }
        }
        self.start += window.len;
        self.windows += 1;
        self.produced += out.len() as u64;
        self.sha256.update(&out);
        Ok(out)
    }

    /// Decodes the next buffered window, reading its reference segment from `reference`;
    /// `None` when more delta is needed.
    pub fn decode_next<R: ReferenceReader + ?Sized>(
        &mut self,
        reference: &mut R,
    ) -> Result<Option<Vec<u8>>> {
        let Some(range) = self.ready()? else {
            return Ok(None);
        };
        let mut segment = std::mem::take(&mut self.segment);
        segment.resize((range.end - range.start) as usize, 0);
        if let Err(source) = reference.read_at(range.start, &mut segment) {
            self.failed = true;
            return Err(Error::Reference {
                offset: range.start,
                len: range.end - range.start,
                source,
            });
        }
        let out = self.decode_ready(&segment);
        self.segment = segment;
        out.map(Some)
    }

    /// Ends the stream: fails if the delta was cut short, had trailing bytes, produced a
    /// different length, or (with [`expect_sha256`](Self::expect_sha256)) a different
    /// SHA-256. Returns the SHA-256 of the output.
    pub fn finish(mut self) -> Result<Sha256Digest> {
        self.check_alive()?;
        if self.ready.is_some() || !self.header_done || self.start < self.buf.len() {
            // Distinguish a cut-off window from junk after the last one.
            if self.header_done && self.ready.is_none() {
                self.parse_ready()?;
            }
            return Err(Error::Truncated {
                len: self.buf_offset + self.buf.len() as u64,
            });
        }
        if self.produced != self.expected_len {
            return Err(Error::LengthMismatch {
                expected: self.expected_len,
                actual: self.produced,
            });
        }
        let actual = self.sha256.finish();
        match self.expected_sha256 {
            Some(expected) if expected != actual => {
                Err(Error::ChecksumMismatch { expected, actual })
            }
            _ => Ok(actual),
        }
    }

    fn check_alive(&self) -> Result<()> {
        if self.failed {
            Err(Error::Finished("stream decoder"))
        } else {
            Ok(())
        }
    }
}
