//! Deltas inside gzip: split a gzip file into its decompressed payload and a small
//! *recipe* that rebuilds the exact original bytes.
//!
//! gzip hides similarity: one changed file in a `.tgz` rewrites every compressed byte after
//! it, so two releases delta at nearly their full size. Their payloads delta well, and the
//! recipe (gzip headers and trailers verbatim, plus the corrections a deflate predictor
//! needs to recreate the original bit stream) is typically a few hundred bytes.
//!
//! ```
//! # #[cfg(feature = "gzip")] {
//! use deltaglider_codec::gzip::{Limits, repack, unpack};
//! use std::io::Write;
//!
//! let text = b"hello hello hello gzip ".repeat(1000);
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
//! gz.write_all(&text)?;
//! let gz = gz.finish()?;
//!
//! let unpacked = unpack(&gz, &Limits::default())?.expect("flate2 output is reproducible");
//! assert_eq!(unpacked.payload, text);
//! assert_eq!(repack(&unpacked.payload, &unpacked.recipe)?, gz);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`unpack`] returns `None` (store a plain delta instead) for input that is not gzip, that
//! the engine cannot reproduce byte for byte, or whose payload exceeds
//! [`Limits::max_payload`]. It never returns a recipe without having checked that
//! [`repack`] rebuilds the input exactly.
//!
//! # The recipe
//!
//! Version 1, all integers unsigned LEB128 varints unless a width is given:
//!
//! ```text
//! recipe  = "DGZ" version:u8(=1) engine:u8(=2) member_count member{member_count} tail_len tail
//! member  = header_len header chunk_count chunk{chunk_count} trailer:[u8; 8]
//! chunk   = plain_len corrections_len corrections
//! ```
//!
//! - `header` is the member's gzip header verbatim (RFC 1952: magic, method, flags, mtime,
//!   extra flags, OS, and the optional extra field, name, comment and header CRC);
//!   `trailer` is its CRC-32 and ISIZE verbatim. Every member of a multi-member file is
//!   described; `tail` holds any bytes after the last member (at most 64 KiB).
//! - A member's deflate stream is cut into chunks of about 8 MiB of payload. `plain_len`
//!   is the chunk's payload length; the payload is the concatenation of all chunks of all
//!   members (what `gunzip` outputs). `corrections` is engine data.
//! - Engine 1 is `preflate-rs` 0.7.6 (`PreflateStreamProcessor` output, one call per
//!   chunk); engine 2, what is written now, is the same with Chromium zlib's hash added as
//!   a candidate (the crate `deltaglider-preflate`, `vendor/preflate-rs`: Node.js, and so
//!   npm, compresses with Chromium's zlib). Corrections are only meaningful to the same predictor, so the
//!   dependency is pinned exactly; a different engine or engine version gets a new engine
//!   number and readers keep the old ones to read old objects.
//!
//! `docs/FORMAT.md` ("Compressed payloads") is the normative description.
//!
//! # Hostile recipes
//!
//! [`repack`] parses the recipe strictly (every length checked against the bytes left, the
//! chunk lengths must add up to the payload's) before the engine sees it, and turns a
//! panic inside the engine into an error. What it cannot bound is the engine's output for
//! corrections crafted to describe many empty blocks: that is proportional to the
//! corrections' size. Callers read recipes from their own storage and verify the rebuilt
//! object's SHA-256 afterwards.

mod deflate;
mod error;
mod header;
mod inflate;
mod recipe;

pub use error::{Error, Result};

use header::{TRAILER_LEN, header_len, starts_member};
use recipe::{Chunk, Member, Recipe};

/// Most bytes after the last gzip member that a recipe keeps verbatim.
const MAX_TAIL: usize = 64 << 10;

/// A gzip file split into its decompressed payload and what rebuilds the exact original bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// The decompressed bytes of every member, concatenated.
    pub payload: Vec<u8>,
    /// What [`repack`] needs besides the payload (format in the module docs).
    pub recipe: Vec<u8>,
}

/// Bounds for [`unpack`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload [`unpack`] produces; a larger one (a decompression bomb, or just a
    /// big file) gives `None`. Default: 1 GiB.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 1 << 30,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_payload`].
    #[must_use]
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }
}

/// Splits `gz` into payload and recipe, or `None` when `gz` is not gzip, cannot be
/// reproduced byte for byte, or decompresses to more than `limits.max_payload` bytes.
///
/// Errors only when the engine fails to read back a recipe it just wrote, which is a bug
/// worth logging; callers treat it like `None`.
pub fn unpack(gz: &[u8], limits: &Limits) -> Result<Option<Unpacked>> {
    if !starts_member(gz) {
        return Ok(None);
    }
    let mut payload = Vec::new();
    let mut analysed = Vec::new();
    let mut pos = 0;
    while pos < gz.len() && starts_member(&gz[pos..]) {
        let Some(hlen) = header_len(&gz[pos..]) else {
            return Ok(None);
        };
        let deflate_start = pos + hlen;
        let Some(a) = deflate::analyse(&gz[deflate_start..], &mut payload, limits.max_payload)
        else {
            return Ok(None);
        };
        let trailer_start = deflate_start + a.consumed;
        if gz.len() - trailer_start < TRAILER_LEN {
            return Ok(None);
        }
        analysed.push((pos..deflate_start, a.chunks, trailer_start));
        pos = trailer_start + TRAILER_LEN;
    }
    let tail = &gz[pos..];
    if tail.len() > MAX_TAIL {
        return Ok(None);
    }
    let members = analysed
        .iter()
        .map(|(header, chunks, trailer)| Member {
            header: &gz[header.clone()],
            chunks: chunks
                .iter()
                .map(|(plain_len, corrections)| Chunk {
                    plain_len: *plain_len,
                    corrections,
                })
                .collect(),
            trailer: &gz[*trailer..trailer + TRAILER_LEN],
        })
        .collect();
    let recipe = Recipe { members, tail }.to_bytes();
    if repack(&payload, &recipe)? != gz {
        return Ok(None);
    }
    Ok(Some(Unpacked { payload, recipe }))
}

/// The payload of `gz` — its members decompressed and concatenated, exactly what `gunzip`
/// outputs — by plain (fast) inflation, for files that are only read: the payload of a
/// reference. `None` when `gz` does not start with a gzip member, a member is corrupt or
/// truncated, or the payload exceeds `limits.max_payload`. Bytes after the last complete
/// member are ignored. Unlike [`unpack`], this works for any gzip encoder.
pub fn payload(gz: &[u8], limits: &Limits) -> Option<Vec<u8>> {
    inflate::payload(gz, limits.max_payload)
}

/// Whether `data` starts like a gzip member (magic and deflate method): cheap, for
/// deciding whether [`unpack`] or [`payload`] is worth trying.
pub fn is_gzip(data: &[u8]) -> bool {
    starts_member(data)
}

/// Rebuilds the original gzip bytes from a payload and its recipe.
///
/// Fails, without panicking, on a recipe that is malformed, of an unknown version or
/// engine, describes a different payload length, or whose corrections the engine rejects.
pub fn repack(payload: &[u8], recipe: &[u8]) -> Result<Vec<u8>> {
    let recipe = Recipe::parse(recipe)?;
    let described = recipe.payload_len();
    if described != Some(payload.len() as u64) {
        return Err(Error::PayloadLength {
            expected: described.unwrap_or(u64::MAX),
            actual: payload.len() as u64,
        });
    }
    let mut out = Vec::with_capacity(payload.len() / 4);
    let mut offset = 0usize;
    for (member, m) in recipe.members.iter().enumerate() {
        out.extend_from_slice(m.header);
        let pieces = m.chunks.iter().map(|c| {
            // In range: the chunk lengths add up to the payload length (checked above).
            let piece = &payload[offset..offset + c.plain_len as usize];
            offset += piece.len();
            (piece, c.corrections)
        });
        deflate::recreate(pieces, &mut out).map_err(|(chunk, detail)| Error::Recreate {
            member,
            chunk,
            detail,
        })?;
        out.extend_from_slice(m.trailer);
    }
    out.extend_from_slice(recipe.tail);
    Ok(out)
}
