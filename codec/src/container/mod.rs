//! Deltas inside compressed containers: split a gzip, zip, bzip2 or xz file into its
//! decompressed *payload* and a small *recipe* that rebuilds the exact original bytes.
//!
//! Compression hides similarity: one changed file in a `.tgz` rewrites every compressed
//! byte after it, so two releases delta at nearly their full size. Their payloads delta
//! well, and the recipe is typically a few dozen bytes per deflate stream.
//!
//! ```
//! use deltaglider_codec::container::{Limits, repack, unpack};
//! use std::io::Write;
//!
//! let text = b"hello hello hello gzip ".repeat(1000);
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
//! gz.write_all(&text)?;
//! let gz = gz.finish()?;
//!
//! let unpacked = unpack(&gz, &Limits::default())?.expect("flate2 output is reproducible");
//! assert_eq!(unpacked.payload, text);
//! assert!(unpacked.recipe.len() < 48);
//! assert_eq!(repack(&unpacked.payload, &unpacked.recipe)?, gz);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`unpack`] returns `None` (store the file as it is) for input that is not gzip, zip,
//! bzip2 or xz, that cannot be rebuilt byte for byte, or whose payload exceeds
//! [`Limits::max_payload`]. It never returns a recipe that it has not checked.
//!
//! # How a deflate stream is rebuilt
//!
//! Each stream (a gzip member, a deflated zip member) is rebuilt by the encoder that wrote
//! it, identified at [`unpack`] by trying the encoders people use — `miniz_oxide` (flate2's
//! default, Rust's `zip` crate) and `zlib-rs` (flate2's zlib-rs backend, recent cargo) at
//! every level — on the stream's first blocks, so a miss is cheap. An encoder that comes
//! close gets a small fix-up (a VCDIFF delta from its output to the original). Streams no
//! encoder rebuilds fall back to `preflate-rs` corrections (slow, bounded by
//! [`Limits::preflate_up_to`]). Rebuilding runs at the encoder's speed, and the streams of
//! a zip rebuild in parallel where there are threads.
//!
//! A bzip2 stream is rebuilt the same way by libbzip2's compressor (its pure-Rust port) at
//! the block size its header names, which is all its output depends on: `bzip2`, Python's
//! `bz2` and `tar cjf` are reproduced exactly, `pbzip2`'s many streams in parallel. An xz
//! stream is rebuilt by liblzma's encoder (XZ Utils 5.8 translated to Rust) at the preset
//! and check identified among those its first block's dictionary allows: single-threaded
//! `xz`, Python's `lzma` and `tar cJf` are reproduced exactly.
//!
//! # The recipe
//!
//! `docs/FORMAT.md` ("Compressed payloads") is the normative description; the recipe
//! records the encoder and its parameters exactly, and a recipe naming an encoder this
//! build does not have is refused ([`Error::Encoder`]), never rebuilt another way.
//!
//! # Hostile recipes
//!
//! [`repack`] parses the recipe strictly (every length checked against the bytes left, the
//! payload lengths must add up to the payload's) before any encoder runs, and turns a
//! panic inside preflate into an error. What it cannot bound is preflate's output for
//! corrections crafted to describe many empty blocks: that is proportional to the
//! corrections' size. Callers read recipes from their own storage and verify the rebuilt
//! object's SHA-256 afterwards.

mod bzip2;
mod describe;
mod error;
mod gzip;
mod limits;
mod parallel;
mod rebuild;
mod recipe;
mod split;
mod streams;
mod xz;
mod zip;

pub use describe::{Description, Stream, describe};
pub use error::{Error, Result};
pub use limits::Limits;
pub use recipe::Container;

use rebuild::assemble;
use recipe::Recipe;

/// A container split into its decompressed payload and what rebuilds the exact original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// What kind of container it was.
    pub container: Container,
    /// The decompressed bytes (see [`payload`] for what they are per container).
    pub payload: Vec<u8>,
    /// What [`repack`] needs besides the payload.
    pub recipe: Vec<u8>,
}

/// The kind of container `data` looks like (cheap: magic bytes only), if any.
pub fn kind(data: &[u8]) -> Option<Container> {
    if gzip::is_gzip(data) {
        Some(Container::Gzip)
    } else if zip::is_zip(data) {
        Some(Container::Zip)
    } else if bzip2::is_bzip2(data) {
        Some(Container::Bzip2)
    } else if xz::is_xz(data) {
        Some(Container::Xz)
    } else {
        None
    }
}

/// Splits `data` into payload and recipe, or `None` when it is not a container this
/// module understands (gzip, zip, bzip2, xz), cannot be rebuilt byte for byte, or decompresses to more than
/// `limits.max_payload` bytes.
///
/// Errors only when the recipe it just wrote does not read back into the same layout,
/// which is a bug worth logging; callers treat it like `None`.
pub fn unpack(data: &[u8], limits: &Limits) -> Result<Option<Unpacked>> {
    unpack_against(data, None, limits)
}

/// [`unpack`], for a payload that will be stored as a delta against `reference`'s
/// payload: a deflated zip member whose compressed bytes `reference` (the other
/// container, as stored) also holds is recorded as a copy of those bytes, so it is
/// neither identified now nor recompressed when rebuilt. The recipe then needs the same
/// `reference` in [`repack_against`].
pub fn unpack_against(
    data: &[u8],
    reference: Option<&[u8]>,
    limits: &Limits,
) -> Result<Option<Unpacked>> {
    let (container, split) = match kind(data) {
        Some(Container::Gzip) => (Container::Gzip, gzip::split(data, limits)),
        Some(Container::Zip) => (Container::Zip, zip::split(data, reference, limits)),
        Some(Container::Bzip2) => (
            Container::Bzip2,
            streams::split(&bzip2::BZIP2, data, limits),
        ),
        Some(Container::Xz) => (Container::Xz, streams::split(&xz::XZ, data, limits)),
        None => return Ok(None),
    };
    let Some(split) = split else {
        return Ok(None);
    };
    let recipe = Recipe {
        container,
        segments: split.segments,
    }
    .to_bytes();
    // Every stream's method was checked against the original stream when it was chosen;
    // this checks the recipe as written: its layout, read back (copies from the
    // reference included), rebuilds the file.
    let parsed = Recipe::parse(&recipe)?;
    let streams = split.streams;
    let rebuilt = assemble(&split.payload, &parsed, |job| {
        if job.copies_reference() {
            job.run(reference)
        } else {
            Ok(data[streams[job.index].clone()].to_vec())
        }
    })?;
    if rebuilt != data {
        return Ok(None);
    }
    Ok(Some(Unpacked {
        container,
        payload: split.payload,
        recipe,
    }))
}

/// The payload of a container read as a reference: for gzip, its members decompressed
/// and concatenated (what `gunzip` outputs; bytes after the last complete member
/// ignored); for zip, the archive with each deflated member's data replaced by its
/// decompressed bytes (members that do not inflate cleanly kept as they are); for bzip2
/// and xz, what `bunzip2` and `xz -d` output. `None` when `data` is none of these, is corrupt, or the payload exceeds `limits.max_payload`. Unlike
/// [`unpack`], this works whatever encoder wrote the file.
pub fn payload(data: &[u8], limits: &Limits) -> Option<Vec<u8>> {
    match kind(data)? {
        Container::Gzip => gzip::payload(data, limits.max_payload),
        Container::Zip => zip::payload(data, limits.max_payload),
        Container::Bzip2 => streams::payload(&bzip2::BZIP2, data, limits.max_payload),
        Container::Xz => streams::payload(&xz::XZ, data, limits.max_payload),
    }
}

/// The payload size `data` declares before it is inflated (a gzip file's last ISIZE,
/// which gzip records modulo 2^32; a zip archive's raw and member sizes), for bounding a
/// cache; `None` when `data` is neither, or is bzip2 or xz (whose sizes are not where a
/// cheap look finds them).
pub fn declared_payload_size(data: &[u8]) -> Option<u64> {
    match kind(data)? {
        Container::Gzip => gzip::declared_size(data),
        Container::Zip => zip::declared_size(data),
        Container::Bzip2 | Container::Xz => None,
    }
}

/// Rebuilds the original bytes from a payload and its recipe.
///
/// Fails, without panicking, on a recipe that is malformed, of an unknown version,
/// container or encoder, describes a different payload length, or whose streams cannot be
/// rebuilt (among them, streams copied from a reference: see [`repack_against`]).
pub fn repack(payload: &[u8], recipe: &[u8]) -> Result<Vec<u8>> {
    repack_against(payload, recipe, None)
}

/// [`repack`] of a recipe written by [`unpack_against`]: `reference` must be the same
/// container given there. A different one gives other bytes or an error; the caller's
/// checksum of the original tells which.
pub fn repack_against(payload: &[u8], recipe: &[u8], reference: Option<&[u8]>) -> Result<Vec<u8>> {
    let recipe = Recipe::parse(recipe)?;
    assemble(payload, &recipe, |job| job.run(reference))
}
