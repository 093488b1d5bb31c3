//! Deltas whose sections xdelta3 compressed with a secondary compressor (its `-S` option:
//! LZMA by default in most builds, as the DeltaGlider CLI's `xdelta3` writes them), turned
//! back into plain VCDIFF before any decoder sees them.
//!
//! A window says which of its sections are compressed (its delta indicator); each such
//! section is the size it decompresses to (a VCDIFF integer) and the compressed bytes.
//! The compressor keeps state from window to window for each section kind, so windows are
//! expanded in order, each exactly once. Every decompressed size is bounded by the
//! window's target length before anything is allocated for it.

mod djw;
mod fgk;
#[cfg(feature = "lzma")]
mod lzma;

use std::borrow::Cow;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::vcdiff::{self, MAGIC, SECTION_BITS, Window};

/// xdelta3's IDs for its secondary compressors.
const DJW: u8 = 1;
const LZMA: u8 = 2;
const FGK: u8 = 16;

/// One section kind's decompressor, carried from window to window.
enum SectionDecoder {
    /// DJW keeps nothing between sections.
    Djw,
    /// FGK's adaptive tree runs on from window to window.
    Fgk(Box<fgk::Fgk>),
    #[cfg(feature = "lzma")]
    Lzma(lzma::Section),
}

impl SectionDecoder {
    fn new(compressor: u8) -> Result<Self> {
        match compressor {
            DJW => Ok(SectionDecoder::Djw),
            #[cfg(feature = "lzma")]
            LZMA => lzma::Section::new()
                .map(SectionDecoder::Lzma)
                .map_err(|detail| Error::Corrupt {
                    window: 0,
                    detail: detail.into(),
                }),
            #[cfg(not(feature = "lzma"))]
            LZMA => Err(Error::Unsupported {
                feature: "LZMA secondary compression (this build has no `lzma` feature)",
            }),
            _ => Ok(SectionDecoder::Fgk(Box::new(fgk::Fgk::new()))),
        }
    }

    fn decompress(
        &mut self,
        input: &[u8],
        out: &mut [u8],
    ) -> std::result::Result<(), &'static str> {
        match self {
            SectionDecoder::Djw => djw::decompress(input, out),
            SectionDecoder::Fgk(tree) => tree.decompress(input, out),
            #[cfg(feature = "lzma")]
            SectionDecoder::Lzma(section) => section.decompress(input, out),
        }
    }
}

/// Expands the windows of one delta, in order.
pub(crate) struct Expander {
    /// The header's compressor ID.
    compressor: u8,
    sections: [Option<SectionDecoder>; 3],
}

impl std::fmt::Debug for Expander {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expander")
            .field("compressor", &self.compressor)
            .finish_non_exhaustive()
    }
}

impl Expander {
    /// An expander for deltas whose header names `compressor`.
    pub(crate) fn new(compressor: u8) -> Result<Self> {
        if ![DJW, LZMA, FGK].contains(&compressor) {
            return Err(Error::Malformed {
                offset: 5,
                reason: "unknown secondary compressor ID",
            });
        }
        Ok(Self {
            compressor,
            sections: [None, None, None],
        })
    }

    /// `window` (whose bytes are `bytes`) with its compressed sections decompressed: the
    /// plain window and its three sections concatenated. `index` numbers the window.
    pub(crate) fn expand(
        &mut self,
        window: &Window,
        bytes: &[u8],
        index: u64,
    ) -> Result<(Window, Vec<u8>)> {
        let corrupt = |detail: String| Error::Corrupt {
            window: index,
            detail,
        };
        let target = window.target_len;
        // The same bounds the framing puts on plain sections: literal data is at most the
        // target; instructions and addresses about a byte per target byte each.
        let limits = [target, 2 * target + 1024, 2 * target + 1024];
        let mut out = Vec::new();
        let mut lengths = [0usize; 3];
        for (kind, stored) in window.stored_sections(bytes).into_iter().enumerate() {
            if window.del_ind & SECTION_BITS[kind] == 0 {
                out.extend_from_slice(stored);
                lengths[kind] = stored.len();
                continue;
            }
            // First the compressor (one this build does not decode is unsupported, whatever
            // the section holds), then the size it declares.
            let decoder = match &mut self.sections[kind] {
                Some(decoder) => decoder,
                empty => empty.insert(SectionDecoder::new(self.compressor)?),
            };
            let (size, header) = vcdiff::leading_varint(stored)
                .ok_or_else(|| corrupt("secondary section without its size".into()))?;
            if size == 0 || size > limits[kind] {
                return Err(corrupt(format!(
                    "secondary section declares {size} bytes for a window of {target}"
                )));
            }
            let start = out.len();
            out.resize(start + size as usize, 0);
            decoder
                .decompress(&stored[header..], &mut out[start..])
                .map_err(|e| corrupt(e.into()))?;
            lengths[kind] = size as usize;
        }
        if lengths[0] as u64 > target {
            return Err(corrupt("data section longer than the target window".into()));
        }
        Ok((window.with_plain_sections(lengths), out))
    }
}

/// The windows of `delta` (whose header names a secondary compressor), framing checked,
/// with where each lies; `reference_len` bounds their source segments. Fails as soon as
/// they declare more than `max_target` bytes of target in all.
fn framed(
    delta: &[u8],
    header_len: usize,
    reference_len: u64,
    max_target: u64,
) -> Result<Vec<(Window, Range<usize>)>> {
    let mut windows = Vec::new();
    let (mut pos, mut declared) = (header_len, 0u64);
    while pos < delta.len() {
        let window = vcdiff::compressed_window(&delta[pos..], pos as u64, reference_len)?.ok_or(
            Error::Truncated {
                len: delta.len() as u64,
            },
        )?;
        declared = declared.saturating_add(window.target_len);
        if declared > max_target {
            return Err(Error::LengthMismatch {
                expected: max_target,
                actual: declared,
            });
        }
        let len = window.len;
        windows.push((window, pos..pos + len));
        pos += len;
    }
    Ok(windows)
}

/// The target length `delta`'s windows declare, whether or not they use secondary
/// compression (nothing is decompressed).
pub(crate) fn declared_len(delta: &[u8]) -> Result<u64> {
    let header = vcdiff::file_header(delta)?.ok_or(Error::Truncated {
        len: delta.len() as u64,
    })?;
    if header.compressor.is_none() {
        return vcdiff::Windows::new(delta, u64::MAX)?.declared_len();
    }
    let windows = framed(delta, header.len, u64::MAX, u64::MAX)?;
    Ok(windows.iter().map(|(w, _)| w.target_len).sum())
}

/// `delta` as plain VCDIFF: itself when no window uses secondary compression, else a copy
/// with every compressed section decompressed and the header naming no compressor. Its
/// windows may declare at most `max_target` bytes in all (checked before any expansion);
/// `reference_len` bounds their source segments.
pub(crate) fn plain(delta: &[u8], reference_len: u64, max_target: u64) -> Result<Cow<'_, [u8]>> {
    let header = vcdiff::file_header(delta)?.ok_or(Error::Truncated {
        len: delta.len() as u64,
    })?;
    let Some(compressor) = header.compressor else {
        return Ok(Cow::Borrowed(delta));
    };
    let windows = framed(delta, header.len, reference_len, max_target)?;
    if windows.iter().all(|(w, _)| w.del_ind == 0) {
        return Ok(Cow::Borrowed(delta));
    }
    let mut expander = Expander::new(compressor)?;
    // The header minus the secondary flag and compressor ID (application header kept).
    let mut out = Vec::with_capacity(delta.len().saturating_mul(2));
    out.extend_from_slice(&MAGIC);
    out.push(delta[MAGIC.len()] & !0x01);
    out.extend_from_slice(&delta[MAGIC.len() + 2..header.len]);
    for (index, (window, range)) in windows.iter().enumerate() {
        let bytes = &delta[range.clone()];
        if window.del_ind == 0 {
            out.extend_from_slice(bytes);
            continue;
        }
        let (plain, sections) = expander.expand(window, bytes, index as u64)?;
        plain.write_plain(&mut out);
        out.extend_from_slice(&sections);
    }
    Ok(Cow::Owned(out))
}
