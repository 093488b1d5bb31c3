//! Encoding a target against a reference too large to hold: each chunk of target is
//! encoded against the *segment* of the reference around the place it is expected to
//! match, and the windows of all chunks make one ordinary VCDIFF delta.
//!
//! Backups, dumps, disk images and model checkpoints change in place: a new version's byte
//! at offset `t` usually matches the old version near `t + d`, where `d` (the *drift*) is
//! what inserts and deletes before it added up to. [`WindowedEncoder`] keeps an estimate
//! of `d`, asks for the reference bytes `[t + d - margin, t + d + chunk + margin)`, encodes
//! the chunk against them and re-estimates `d` from where the chunk's last bytes lie in
//! that segment. Memory is one chunk, one segment and the encoder's tables for them, not
//! the object or the reference: the caller reads the segment however it likes (ranged
//! GETs, a file). Matches further away than the margin are not found (`xdelta3 -B` has
//! the same horizon, its source window).
//!
//! Inside a chunk, 64 KiB blocks equal to the reference at the tracked place become
//! windows of a single COPY, written here without the encoder; only edited blocks are
//! encoded, against the 256 KiB around them (the whole segment when that leaves much of
//! them unmatched). A chunk with a few edits costs a few small encodes. Every chunk's
//! encoding can be checked against the bytes it came from ([`ChunkPlan::verify`]).
//!
//! ```
//! use deltaglider_codec::{decode, EncodeOptions, WindowedEncoder};
//! let reference: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
//! let mut target = reference.clone();
//! target.splice(1_000_000..1_000_000, *b"inserted"); // everything after shifts
//! target[2_500_000] ^= 1;
//!
//! let mut encoder = WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default())
//!     .chunk(1 << 20)
//!     .margin(64 << 10);
//! let mut delta = Vec::new();
//! for chunk in target.chunks(1 << 20) {
//!     let segment = encoder.segment_for(chunk.len());
//!     let segment = &reference[segment.start as usize..segment.end as usize];
//!     encoder.push(chunk, segment, &mut delta)?;
//! }
//! assert!(delta.len() < 2_000);
//! assert_eq!(decode(&reference, &delta, target.len() as u64)?, target);
//! # Ok::<(), deltaglider_codec::Error>(())
//! ```

use std::ops::Range;

use crate::error::{Error, Result};
use crate::memory::encode;
use crate::options::{EncodeOptions, Encoded};
use crate::stream::StreamDecoder;
use crate::vcdiff;

use aligned::{PROBE, Piece};
use vcdiff::put_varint;

/// The largest chunk: a window of at most 8 MiB of target (`docs/FORMAT.md`, section 7).
const MAX_CHUNK: usize = 8 << 20;

/// Encodes a target chunk by chunk against reference segments (module docs).
#[derive(Debug, Clone)]
pub struct WindowedEncoder {
    reference_len: u64,
    options: EncodeOptions,
    chunk: usize,
    margin: u64,
    /// Target bytes encoded so far.
    position: u64,
    /// Estimated offset of the reference match of the next target byte, minus its offset.
    drift: i64,
    /// The file header every chunk's delta starts with: written once.
    header: Option<Vec<u8>>,
}

impl WindowedEncoder {
    /// An encoder for a target read against a reference of `reference_len` bytes, with
    /// `options`' backend and level (its `max_ratio` is not applied: the caller sees the
    /// delta grow and decides). Chunks of 8 MiB, margins of 8 MiB.
    pub fn new(reference_len: u64, options: &EncodeOptions) -> Self {
        Self {
            reference_len,
            options: options.uncapped(),
            chunk: 8 << 20,
            margin: 8 << 20,
            position: 0,
            drift: 0,
            header: None,
        }
    }

    /// Sets the chunk size: how much target [`push`](Self::push) takes at a time (at
    /// least 64 KiB, at most 8 MiB, the largest window `docs/FORMAT.md` lets writers
    /// produce).
    #[must_use]
    pub fn chunk(mut self, bytes: usize) -> Self {
        self.chunk = bytes.clamp(64 << 10, MAX_CHUNK);
        self
    }

    /// Sets how far around a chunk's expected place the reference is searched, each side.
    #[must_use]
    pub fn margin(mut self, bytes: u64) -> Self {
        self.margin = bytes;
        self
    }

    /// The chunk size in use.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Target bytes encoded so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The reference bytes the next chunk, of `len` bytes, is to be encoded against.
    pub fn segment_for(&self, len: usize) -> Range<u64> {
        let expected = i128::from(self.position) + i128::from(self.drift);
        let clamp = |v: i128| v.clamp(0, i128::from(self.reference_len)) as u64;
        let margin = i128::from(self.margin);
        clamp(expected - margin)..clamp(expected + len as i128 + margin)
    }

    /// Encodes `chunk`, the next target bytes (at most [`chunk_size`](Self::chunk_size)),
    /// against `segment`, the reference bytes [`segment_for`](Self::segment_for) named for
    /// it, and appends its windows (the file header before the first) to `out`. The same
    /// as [`plan`](Self::plan), [`ChunkPlan::encode`] and [`append`](Self::append) in turn.
    pub fn push(&mut self, chunk: &[u8], segment: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let plan = self.plan(chunk, segment)?;
        let encoded = plan.encode(chunk, segment)?;
        self.append(encoded, out)
    }

    /// Takes `chunk`, the next target bytes, and `segment`, the reference bytes
    /// [`segment_for`](Self::segment_for) named for it, without encoding them: the drift
    /// is re-estimated at once (the next chunk's segment can be asked for), and the
    /// returned plan encodes the chunk later, on any thread. Plans' encodings must be
    /// [`append`](Self::append)ed in the order the chunks were planned.
    pub fn plan(&mut self, chunk: &[u8], segment: &[u8]) -> Result<ChunkPlan> {
        let range = self.segment_for(chunk.len());
        if chunk.len() > self.chunk {
            return Err(Error::LengthMismatch {
                expected: self.chunk as u64,
                actual: chunk.len() as u64,
            });
        }
        if segment.len() as u64 != range.end - range.start {
            return Err(Error::LengthMismatch {
                expected: range.end - range.start,
                actual: segment.len() as u64,
            });
        }
        let expected = (i128::from(self.position) + i128::from(self.drift))
            .clamp(0, i128::from(self.reference_len)) as u64;
        let chunk_end = self.position + chunk.len() as u64;
        let expected_end = (i128::from(chunk_end) + i128::from(self.drift)
            - i128::from(range.start))
        .clamp(0, segment.len() as i128) as usize;
        if let Some(found) = locate_end(chunk, segment, expected_end) {
            self.drift = (range.start + found as u64) as i64 - chunk_end as i64;
        }
        self.position += chunk.len() as u64;
        Ok(ChunkPlan {
            options: self.options,
            chunk_len: chunk.len(),
            segment: range,
            expected,
            reference_len: self.reference_len,
        })
    }

    /// Appends a planned chunk's encoding to `out` (the file header before the first).
    pub fn append(&mut self, encoded: EncodedChunk, out: &mut Vec<u8>) -> Result<()> {
        match &self.header {
            None => {
                out.extend_from_slice(&encoded.header);
                self.header = Some(encoded.header);
            }
            Some(first) if *first == encoded.header => {}
            Some(_) => {
                return Err(Error::Unsupported {
                    feature: "chunks encoded with different VCDIFF headers",
                });
            }
        }
        out.extend_from_slice(&encoded.windows);
        Ok(())
    }

    /// Ends the delta: for a target of no bytes at all (nothing pushed), appends the file
    /// header that is then the whole delta.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<()> {
        if self.header.is_some() {
            return Ok(());
        }
        match encode(&[], &[], &self.options)? {
            Encoded::Delta(delta) => {
                out.extend_from_slice(&delta);
                Ok(())
            }
            Encoded::Exceeded { .. } => Err(uncapped_exceeded(self.options)),
        }
    }
}

/// One chunk taken by [`WindowedEncoder::plan`], to be encoded on any thread.
#[derive(Debug, Clone)]
pub struct ChunkPlan {
    options: EncodeOptions,
    chunk_len: usize,
    segment: Range<u64>,
    /// Where in the reference the chunk is expected to start.
    expected: u64,
    reference_len: u64,
}

impl ChunkPlan {
    /// The reference bytes the chunk is encoded against.
    pub fn segment(&self) -> Range<u64> {
        self.segment.clone()
    }

    /// Encodes the planned `chunk` against its `segment` (the same bytes as planned).
    pub fn encode(&self, chunk: &[u8], segment: &[u8]) -> Result<EncodedChunk> {
        let expected = self.segment.end - self.segment.start;
        for (expected, actual) in [
            (self.chunk_len as u64, chunk.len() as u64),
            (expected, segment.len() as u64),
        ] {
            if expected != actual {
                return Err(Error::LengthMismatch { expected, actual });
            }
        }
        let offset = self.expected.saturating_sub(self.segment.start) as usize;
        let mut windows = Vec::new();
        let mut header: Option<Vec<u8>> = None;
        for piece in aligned::split(chunk, segment, offset) {
            match piece {
                Piece::Copy { target, source } => {
                    let at = self.segment.start + source as u64;
                    aligned::copy_window(&mut windows, at, &chunk[target]);
                }
                Piece::Edit { target, source } => {
                    // The edited bytes against the reference around their place.
                    let mut hi = (source.end.max(source.start + target.len()) + EDIT_MARGIN)
                        .min(segment.len());
                    let mut lo = source
                        .start
                        .min(source.end)
                        .saturating_sub(EDIT_MARGIN)
                        .min(hi);
                    let edited = &chunk[target];
                    let (mut delta, mut len) =
                        encode_whole(&segment[lo..hi], edited, self.options)?;
                    if delta.len() > edited.len() / 8
                        && (lo, hi) != (0, segment.len())
                        && aligned::found_elsewhere(edited, segment, lo..hi)
                    {
                        // Much of it unmatched nearby, and some of it found further away:
                        // maybe moved from there.
                        let wide = encode_whole(segment, edited, self.options)?;
                        if wide.0.len() < delta.len() {
                            (delta, len, lo, hi) = (wide.0, wide.1, 0, segment.len());
                        }
                    }
                    match &header {
                        None => header = Some(delta[..len].to_vec()),
                        Some(first) if first[..] == delta[..len] => {}
                        Some(_) => {
                            return Err(Error::Unsupported {
                                feature: "pieces encoded with different VCDIFF headers",
                            });
                        }
                    }
                    let shift = self.segment.start + lo as u64;
                    rebase(&delta[len..], (hi - lo) as u64, shift, &mut windows)?;
                }
            }
        }
        let header = match header {
            Some(header) => header,
            None => {
                let (delta, len) = encode_whole(&[], &[], self.options)?;
                delta[..len].to_vec()
            }
        };
        Ok(EncodedChunk { header, windows })
    }
}

impl ChunkPlan {
    /// Checks that `encoded` (this plan's encoding) decodes, window by window with each
    /// window's Adler-32, to exactly `chunk` against `segment` — the bytes it was encoded
    /// from, so no reference needs reading again. The windows of a delta are independent,
    /// so a delta whose every chunk passes decodes to the whole target.
    pub fn verify(&self, encoded: &EncodedChunk, chunk: &[u8], segment: &[u8]) -> Result<()> {
        let mut decoder = StreamDecoder::new(self.reference_len, chunk.len() as u64);
        decoder.push(&encoded.header)?;
        decoder.push(&encoded.windows)?;
        let (mut at, mut index) = (0, 0);
        while let Some(range) = decoder.ready()? {
            let (start, end) = (
                range.start.wrapping_sub(self.segment.start) as usize,
                range.end.wrapping_sub(self.segment.start) as usize,
            );
            let outside = range.start < self.segment.start || range.end > self.segment.end;
            if outside && range.start != range.end {
                return Err(Error::Unsupported {
                    feature: "a chunk's window reading outside its segment",
                });
            }
            let source = if range.start == range.end {
                &[][..]
            } else {
                &segment[start..end]
            };
            let window = decoder.decode_ready(source)?;
            if chunk.get(at..at + window.len()) != Some(&window[..]) {
                return Err(Error::Corrupt {
                    window: index,
                    detail: "it decodes to other bytes than the chunk's".into(),
                });
            }
            at += window.len();
            index += 1;
        }
        decoder.finish()?;
        Ok(())
    }
}

/// The reference bytes an edited stretch is encoded against, each side of its place.
const EDIT_MARGIN: usize = 256 << 10;

/// A whole delta of `target` against `source` and the length of its file header.
fn encode_whole(source: &[u8], target: &[u8], options: EncodeOptions) -> Result<(Vec<u8>, usize)> {
    let delta = match encode(source, target, &options)? {
        Encoded::Delta(delta) => delta,
        Encoded::Exceeded { .. } => return Err(uncapped_exceeded(options)),
    };
    let header = vcdiff::file_header(&delta)?
        .ok_or(Error::Truncated {
            len: delta.len() as u64,
        })?
        .len;
    Ok((delta, header))
}

/// A chunk's windows, moved to their segment's place, and the file header its encoder
/// wrote: what [`WindowedEncoder::append`] adds to the delta.
#[derive(Debug, Clone)]
pub struct EncodedChunk {
    header: Vec<u8>,
    windows: Vec<u8>,
}

impl EncodedChunk {
    /// Bytes this chunk adds to the delta (its windows).
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether the chunk adds no windows (an empty chunk).
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

/// An encoder without a cap reported one: a bug in a backend, never an input's fault.
fn uncapped_exceeded(options: EncodeOptions) -> Error {
    Error::Backend {
        backend: options.get_backend(),
        code: -1,
        message: "an uncapped encode reported its cap exceeded",
    }
}

/// Copies the windows of `windows` (a delta after its file header, made against a
/// segment of `segment_len` bytes) to `out`, their source segments moved `shift` bytes on
/// (where the segment starts in the whole reference).
fn rebase(windows: &[u8], segment_len: u64, shift: u64, out: &mut Vec<u8>) -> Result<()> {
    let mut pos = 0;
    while pos < windows.len() {
        let window = vcdiff::window(&windows[pos..], 0, segment_len)?.ok_or(Error::Truncated {
            len: windows.len() as u64,
        })?;
        let bytes = &windows[pos..pos + window.len];
        if window.copy_len == 0 && bytes[0] & 0x01 == 0 {
            out.extend_from_slice(bytes);
        } else {
            // Our encoders write minimal integers: the prefix re-encoded must be the bytes
            // read, or the window is copied wrong.
            let mut prefix = vec![bytes[0]];
            put_varint(&mut prefix, window.copy_len);
            put_varint(&mut prefix, window.copy_offset);
            if !bytes.starts_with(&prefix) {
                return Err(Error::Unsupported {
                    feature: "non-minimal integers in a window header",
                });
            }
            out.push(bytes[0]);
            put_varint(out, window.copy_len);
            put_varint(out, window.copy_offset + shift);
            out.extend_from_slice(&bytes[prefix.len()..]);
        }
        pos += window.len;
    }
    Ok(())
}

/// Where, in `segment`, the byte after `chunk`'s match lies: found from the chunk's last
/// bytes (the occurrence nearest `expected`, where the chunk was expected to end), or
/// `None` when they are not there or too uniform to place.
fn locate_end(chunk: &[u8], segment: &[u8], expected: usize) -> Option<usize> {
    let probe = chunk.get(chunk.len().checked_sub(PROBE)?..)?;
    if probe.iter().all(|&b| b == probe[0]) {
        return None;
    }
    memchr::memmem::find_iter(segment, probe)
        .map(|at| at + PROBE)
        .min_by_key(|&end| end.abs_diff(expected))
}

/// A delta that rebuilds `target` from a reference holding exactly the same bytes: one
/// COPY window per [`vcdiff::MAX_WINDOW`] bytes, each with the Adler-32 of its bytes — what
/// an encoder would find, without searching (a new reference's own delta against itself).
///
/// ```
/// let data = vec![7u8; 100_000];
/// let delta = deltaglider_codec::identity_delta(&data);
/// assert!(delta.len() < 64);
/// let back = deltaglider_codec::decode(&data, &delta, data.len() as u64).unwrap();
/// assert_eq!(back, data);
/// ```
pub fn identity_delta(target: &[u8]) -> Vec<u8> {
    let mut out = vcdiff::MAGIC.to_vec();
    out.push(0);
    let window = vcdiff::MAX_WINDOW as usize;
    for (i, piece) in target.chunks(window).enumerate() {
        aligned::copy_window(&mut out, (i * window) as u64, piece);
    }
    out
}

mod aligned;
#[cfg(test)]
mod tests;
