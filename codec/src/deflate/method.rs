//! How one deflate stream is rebuilt from its payload, and the rebuilding itself.

use super::encoder::Encoder;
use super::preflate;
use crate::{EncodeOptions, Encoded};

/// One piece of a stream described by preflate: how much payload it covers and the
/// engine's corrections for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Payload bytes of this piece.
    pub(crate) plain_len: u64,
    /// preflate's corrections.
    pub(crate) corrections: Vec<u8>,
}

/// What rebuilds one deflate stream from its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Method {
    /// Run `encoder` over the payload; apply `fixup` (VCDIFF, source = the encoder's
    /// output) when it is not empty.
    Encoder {
        /// The identified encoder and its parameters.
        encoder: Encoder,
        /// Empty when the encoder reproduces the stream exactly.
        fixup: Vec<u8>,
    },
    /// preflate's corrections, chunk by chunk (`engine`: see `docs/FORMAT.md`).
    Preflate {
        /// 1 or 2.
        engine: u8,
        /// At least one.
        chunks: Vec<Chunk>,
    },
    /// The stream is the reference archive's bytes at `offset` (its length recorded
    /// beside the method): a member the new archive shares with its reference, copied
    /// instead of recompressed.
    Reference {
        /// Where it starts in the reference archive.
        offset: u64,
    },
}

impl Method {
    /// Rebuilds the stream whose payload is `plain`; `deflate_len`, its recorded length,
    /// is checked when known (and needed by a fix-up or a copy from `reference`, the
    /// archive the payload delta was taken against).
    pub(crate) fn rebuild(
        &self,
        plain: &[u8],
        deflate_len: Option<u64>,
        reference: Option<&[u8]>,
    ) -> Result<Vec<u8>, String> {
        let out = match self {
            Self::Reference { offset } => {
                let reference = reference.ok_or(
                    "the stream is copied from the reference archive, which was not given",
                )?;
                let len = deflate_len.ok_or("a copy from the reference without its length")?;
                let range = offset
                    .checked_add(len)
                    .filter(|&end| end <= reference.len() as u64)
                    .map(|end| *offset as usize..end as usize)
                    .ok_or_else(|| {
                        format!(
                            "bytes {offset}+{len} lie outside the reference archive ({} bytes)",
                            reference.len()
                        )
                    })?;
                reference[range].to_vec()
            }
            Self::Encoder { encoder, fixup } => {
                let ours = encoder.compress(plain);
                match deflate_len {
                    _ if fixup.is_empty() => ours,
                    Some(len) => {
                        crate::decode(&ours, fixup, len).map_err(|e| format!("fix-up: {e}"))?
                    }
                    None => return Err("a fix-up without the stream's length".into()),
                }
            }
            Self::Preflate { chunks, .. } => {
                if chunks.iter().map(|c| c.plain_len).sum::<u64>() != plain.len() as u64 {
                    return Err("preflate chunks do not cover the payload".into());
                }
                let mut offset = 0usize;
                let pieces = chunks.iter().map(|c| {
                    // In range: the chunk lengths add up to the payload length (checked).
                    let piece = &plain[offset..offset + c.plain_len as usize];
                    offset += piece.len();
                    (piece, c.corrections.as_slice())
                });
                let mut out = Vec::with_capacity(plain.len() / 3);
                preflate::recreate(pieces, &mut out)
                    .map_err(|(chunk, detail)| format!("preflate chunk {chunk}: {detail}"))?;
                out
            }
        };
        if let Some(len) = deflate_len.filter(|&len| len != out.len() as u64) {
            return Err(format!(
                "rebuilt {} deflate bytes where {len} were recorded",
                out.len()
            ));
        }
        Ok(out)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Encoder { encoder, fixup } if fixup.is_empty() => write!(f, "{encoder}"),
            Self::Encoder { encoder, fixup } => {
                write!(f, "{encoder} + fix-up of {} B", fixup.len())
            }
            Self::Reference { offset } => {
                write!(f, "copied from the reference archive at {offset}")
            }
            Self::Preflate { chunks, .. } => {
                let bytes: usize = chunks.iter().map(|c| c.corrections.len()).sum();
                write!(f, "preflate, {bytes} B of corrections")
            }
        }
    }
}

/// A fix-up from `ours` to `original`, if it is at most `max` bytes.
pub(super) fn fixup(ours: &[u8], original: &[u8], max: usize) -> Option<Vec<u8>> {
    let ratio = max as f64 / original.len().max(1) as f64;
    let options = EncodeOptions::default().max_ratio(ratio.min(1.0));
    match crate::encode(ours, original, &options) {
        Ok(Encoded::Delta(d)) if d.len() <= max => {
            let back = crate::decode(ours, &d, original.len() as u64).ok()?;
            (back == original).then_some(d)
        }
        _ => None,
    }
}
