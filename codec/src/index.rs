//! Where each window of a delta lies, learnt by one pass over the delta that keeps only
//! the window headers: so a range of a large target can be decoded from only the delta
//! bytes of its covering windows, read by ranges, without holding the delta.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::vcdiff;

/// The longest a window header can be: an indicator, nine integers of at most ten bytes
/// each, and a checksum. A buffer this long that still ends inside a header is malformed.
const MAX_WINDOW_HEADER: usize = 1 + 9 * 10 + 4 + 1;

/// One window of a delta: the target bytes it produces and the delta bytes it occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedWindow {
    /// Offset of the window's first byte in the target.
    pub target_start: u64,
    /// Bytes of target the window produces.
    pub target_len: u64,
    /// Offset of the window's first byte in the delta.
    pub delta_start: u64,
    /// Bytes of delta the window occupies, header included.
    pub delta_len: u64,
    /// Whether the window carries an Adler-32 of its target bytes.
    pub checksummed: bool,
}

impl IndexedWindow {
    /// The delta bytes of the window.
    pub fn delta_range(&self) -> Range<u64> {
        self.delta_start..self.delta_start + self.delta_len
    }
}

/// The window layout of a whole delta: its file header's bytes and every window's place.
///
/// Built by [`IndexBuilder`] from the delta in pieces. A range of the target is then
/// decoded from [`header`](Self::header) followed by the delta bytes of the windows
/// [`covering`](Self::covering) it, exactly as if those were a delta of their own (their
/// target being the concatenation of the covering windows).
///
/// ```
/// use deltaglider_codec::{EncodeOptions, IndexBuilder, WindowedEncoder, decode_range};
/// let reference: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
/// let mut target = reference.clone();
/// target[2_000_000..2_000_010].copy_from_slice(b"0123456789");
/// let mut encoder = WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default())
///     .chunk(1 << 20);
/// let mut delta = Vec::new();
/// for chunk in target.chunks(1 << 20) {
///     let segment = encoder.segment_for(chunk.len());
///     let segment = &reference[segment.start as usize..segment.end as usize];
///     encoder.push(chunk, segment, &mut delta)?;
/// }
/// encoder.finish(&mut delta)?;
///
/// let mut builder = IndexBuilder::new(reference.len() as u64);
/// for piece in delta.chunks(1000) {
///     builder.push(piece)?;
/// }
/// let index = builder.finish()?;
/// assert_eq!(index.target_len(), target.len() as u64);
///
/// let wanted = 2_000_000..2_000_010u64;
/// let covering = index.covering(wanted.clone());
/// let (first, last) = (covering[0], covering[covering.len() - 1]);
/// let mut part = index.header().to_vec();
/// part.extend_from_slice(&delta[first.delta_start as usize..last.delta_range().end as usize]);
/// let part_len = last.target_start + last.target_len - first.target_start;
/// let shifted = wanted.start - first.target_start..wanted.end - first.target_start;
/// let bytes = decode_range(&reference, &part, part_len, shifted)?;
/// assert_eq!(bytes, b"0123456789");
/// # Ok::<(), deltaglider_codec::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowIndex {
    header: Vec<u8>,
    windows: Vec<IndexedWindow>,
    delta_len: u64,
    sequential: bool,
}

impl WindowIndex {
    /// The delta's file header, byte for byte.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Every window, in order.
    pub fn windows(&self) -> &[IndexedWindow] {
        &self.windows
    }

    /// Bytes of target all windows produce.
    pub fn target_len(&self) -> u64 {
        self.windows
            .last()
            .map_or(0, |w| w.target_start + w.target_len)
    }

    /// Bytes of the delta.
    pub fn delta_len(&self) -> u64 {
        self.delta_len
    }

    /// Whether the windows decode only in order from the first: their sections use a
    /// secondary compressor whose state runs from window to window (xdelta3 `-S lzma`).
    /// A range of such a delta is decoded from the whole delta
    /// ([`decode_range`](crate::decode_range)), not from its covering windows alone.
    pub fn sequential(&self) -> bool {
        self.sequential
    }

    /// The windows that produce any byte of `range` of the target, in order (none for an
    /// empty range).
    pub fn covering(&self, range: Range<u64>) -> &[IndexedWindow] {
        if range.start >= range.end {
            return &[];
        }
        let first = self
            .windows
            .partition_point(|w| w.target_start + w.target_len <= range.start);
        let end = self.windows.partition_point(|w| w.target_start < range.end);
        &self.windows[first..end.max(first)]
    }

    /// Memory the index holds, in bytes.
    pub fn memory(&self) -> usize {
        self.header.len() + self.windows.len() * std::mem::size_of::<IndexedWindow>()
    }
}

/// Builds a [`WindowIndex`] from a delta pushed in pieces of any size, in order. Memory:
/// the index and at most one window header; window bodies are skipped as they pass, so
/// a delta of any size is indexed while it streams. Every header is checked as the
/// decoder checks it (against a reference of the length given), so a delta that indexes
/// has well-formed framing; its windows' contents are checked when they are decoded.
#[derive(Debug)]
pub struct IndexBuilder {
    reference_len: u64,
    /// Bytes received and not yet parsed (a header in progress).
    pending: Vec<u8>,
    /// Delta offset of `pending[0]`.
    offset: u64,
    /// Bytes of the current window's body still to pass.
    skip: u64,
    header: Option<Vec<u8>>,
    /// The header names a secondary compressor (see [`WindowIndex::sequential`]).
    sequential: bool,
    windows: Vec<IndexedWindow>,
    target: u64,
}

impl IndexBuilder {
    /// A builder for a delta against a reference of `reference_len` bytes.
    pub fn new(reference_len: u64) -> Self {
        Self {
            reference_len,
            pending: Vec::new(),
            offset: 0,
            skip: 0,
            header: None,
            sequential: false,
            windows: Vec::new(),
            target: 0,
        }
    }

    /// Feeds the next piece of the delta.
    pub fn push(&mut self, mut piece: &[u8]) -> Result<()> {
        while !piece.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(piece.len() as u64);
                self.skip -= n;
                self.offset += n;
                piece = &piece[n as usize..];
                continue;
            }
            // Parse headers from the pending bytes plus this piece; whatever is left
            // unparsed (the start of a header) stays pending.
            let take = piece.len().min(MAX_WINDOW_HEADER.max(1 << 16));
            self.pending.extend_from_slice(&piece[..take]);
            piece = &piece[take..];
            let used = self.parse()?;
            // Bytes of a window body already in `pending` were counted in `used`; those
            // past it are still owed by `skip`.
            self.pending.drain(..used.min(self.pending.len()));
        }
        Ok(())
    }

    /// Parses what `pending` holds; returns how many of its bytes were consumed (bodies
    /// that run past its end set `skip` for the rest).
    fn parse(&mut self) -> Result<usize> {
        let mut pos = 0usize;
        if self.header.is_none() {
            let Some(header) = vcdiff::file_header(&self.pending)? else {
                return Ok(0);
            };
            self.header = Some(self.pending[..header.len].to_vec());
            self.sequential = header.secondary;
            pos = header.len;
            self.offset += header.len as u64;
        }
        while pos < self.pending.len() {
            let rest = &self.pending[pos..];
            let window = if self.sequential {
                vcdiff::compressed_frame(rest, self.offset, self.reference_len)?
            } else {
                vcdiff::window_frame(rest, self.offset, self.reference_len)?
            };
            let Some(window) = window else {
                if rest.len() >= MAX_WINDOW_HEADER {
                    return Err(Error::Malformed {
                        offset: self.offset,
                        reason: "window header longer than any well-formed one",
                    });
                }
                break;
            };
            self.windows.push(IndexedWindow {
                target_start: self.target,
                target_len: window.target_len,
                delta_start: self.offset,
                delta_len: window.len as u64,
                checksummed: window.has_checksum(),
            });
            self.target += window.target_len;
            let here = rest.len().min(window.len);
            pos += here;
            self.offset += here as u64;
            self.skip = (window.len - here) as u64;
            if self.skip > 0 {
                break;
            }
        }
        Ok(pos)
    }

    /// The index, once the whole delta was pushed; an error when it ends inside its header
    /// or a window.
    pub fn finish(self) -> Result<WindowIndex> {
        let delta_len = self.offset + self.pending.len() as u64;
        match self.header {
            Some(header) if self.skip == 0 && self.pending.is_empty() => Ok(WindowIndex {
                header,
                windows: self.windows,
                delta_len,
                sequential: self.sequential,
            }),
            _ => Err(Error::Truncated { len: delta_len }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EncodeOptions, encode};

    fn delta(reference: &[u8], target: &[u8]) -> Vec<u8> {
        encode(reference, target, &EncodeOptions::default())
            .expect("encode")
            .into_delta()
            .expect("a delta")
    }

    fn indexed(delta: &[u8], reference_len: u64, piece: usize) -> Result<WindowIndex> {
        let mut builder = IndexBuilder::new(reference_len);
        for p in delta.chunks(piece) {
            builder.push(p)?;
        }
        builder.finish()
    }

    #[test]
    fn any_piece_size_gives_the_same_index() {
        let reference: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let mut target = reference.clone();
        target[100_000] ^= 0x55;
        let d = delta(&reference, &target);
        let whole = indexed(&d, reference.len() as u64, d.len()).expect("index");
        for piece in [1, 2, 3, 7, 64, 1000] {
            assert_eq!(
                indexed(&d, reference.len() as u64, piece).expect("index"),
                whole
            );
        }
        assert_eq!(whole.target_len(), target.len() as u64);
        assert_eq!(whole.delta_len(), d.len() as u64);
        let last = whole.windows().last().expect("a window");
        assert_eq!(last.delta_range().end, d.len() as u64);
        assert_eq!(&d[..whole.header().len()], whole.header());
    }

    #[test]
    fn truncated_and_garbage_deltas_fail() {
        let reference = vec![7u8; 10_000];
        let mut target = reference.clone();
        target[5] = 1;
        let d = delta(&reference, &target);
        for cut in [0, 3, d.len() / 2, d.len() - 1] {
            assert!(indexed(&d[..cut], 10_000, 5).is_err(), "cut at {cut}");
        }
        assert!(indexed(&[0u8; 64], 10_000, 64).is_err());
        let mut long = d[..vcdiff::file_header(&d).expect("h").expect("h").len].to_vec();
        long.extend_from_slice(&[0x01]);
        long.extend_from_slice(&[0xFF; 200]);
        assert!(indexed(&long, 10_000, 17).is_err());
    }

    #[test]
    fn covering_finds_exactly_the_windows_of_a_range() {
        let index = WindowIndex {
            header: Vec::new(),
            windows: (0..4)
                .map(|i| IndexedWindow {
                    target_start: i * 10,
                    target_len: 10,
                    delta_start: i * 3,
                    delta_len: 3,
                    checksummed: true,
                })
                .collect(),
            delta_len: 12,
            sequential: false,
        };
        let starts = |r: Range<u64>| -> Vec<u64> {
            index.covering(r).iter().map(|w| w.target_start).collect()
        };
        assert_eq!(starts(0..1), [0]);
        assert_eq!(starts(9..11), [0, 10]);
        assert_eq!(starts(10..20), [10]);
        assert_eq!(starts(25..40), [20, 30]);
        assert!(starts(5..5).is_empty());
        assert!(starts(40..50).is_empty());
    }
}
