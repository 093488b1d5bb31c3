//! The recipe's byte format: writing it, and parsing it without trusting it.
//!
//! Version 2 (written), all integers unsigned LEB128 varints unless a width is given:
//!
//! ```text
//! recipe  = "DGZ" version:u8(=2) container:u8 segment_count segment{segment_count}
//! segment = 0x00 len bytes                      literal: bytes kept in the recipe
//!         | 0x01 len                            copy: the next `len` payload bytes
//!         | 0x02 plain_len deflate_len method   stream: a compressed stream (deflate;
//!                                               bzip2 or xz in those containers)
//!                                               rebuilt from the next `plain_len`
//!                                               payload bytes
//! method  = 0x01 engine:u8 chunk_count chunk{chunk_count}    preflate
//!         | 0x02 encoder:[u8; 5] fixup_len fixup             an identified encoder
//!         | 0x03 offset                                      the reference archive's
//!                                                            `deflate_len` bytes at `offset`
//! chunk   = plain_len corrections_len corrections
//! ```
//!
//! Version 1 (read only) described gzip members, each rebuilt by preflate:
//!
//! ```text
//! recipe  = "DGZ" version:u8(=1) engine:u8 member_count member{member_count} tail_len tail
//! member  = header_len header chunk_count chunk{chunk_count} trailer:[u8; 8]
//! ```
//!
//! It is read as the version-2 segments literal(header), deflate, literal(trailer) per
//! member, then literal(tail). Every length is checked against the bytes that remain
//! before anything is allocated, so a recipe can claim no more memory than its own size.

use super::error::{Error, Result};
use crate::deflate::{Chunk, ENCODED_LEN, Encoder, Method, PREFLATE_ENGINES};

/// The first bytes of every recipe.
const MAGIC: &[u8; 3] = b"DGZ";
/// The layout this build writes.
const VERSION: u8 = 2;
/// The gzip-only layout of the first payload deltas, still read.
const VERSION_1: u8 = 1;
/// A gzip member's trailer (CRC-32 and ISIZE), as version 1 stores it.
const TRAILER_LEN: usize = 8;
/// Largest count of anything, whatever the recipe's length: keeps a count's allocation
/// bounded even where each item could be a single byte.
const MAX_COUNT: u64 = 1 << 24;

/// What kind of container the recipe rebuilds: decides how a reference's payload is read
/// (`docs/FORMAT.md`, "Compressed payloads").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// gzip: the payload is what `gunzip` outputs.
    Gzip,
    /// zip: the payload is the archive with each deflated member's data inflated.
    Zip,
    /// bzip2: the payload is what `bunzip2` outputs.
    Bzip2,
    /// xz: the payload is what `xz -d` outputs.
    Xz,
}

impl Container {
    /// What its streams are, as [`stream_kind`] names it.
    fn stream_kind(self) -> Container {
        match self {
            Self::Zip => Self::Gzip,
            other => other,
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::Gzip => 1,
            Self::Zip => 2,
            Self::Bzip2 => 3,
            Self::Xz => 4,
        }
    }
}

/// One piece of the rebuilt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Bytes kept in the recipe.
    Literal(Vec<u8>),
    /// The next `n` payload bytes, verbatim.
    Copy(u64),
    /// A deflate stream of `deflate_len` bytes (always known in version 2) rebuilt from
    /// the next `plain_len` payload bytes.
    Deflate {
        plain_len: u64,
        deflate_len: Option<u64>,
        method: Method,
    },
}

impl Segment {
    /// Payload bytes the segment consumes.
    fn plain_len(&self) -> u64 {
        match self {
            Self::Literal(_) => 0,
            Self::Copy(n) => *n,
            Self::Deflate { plain_len, .. } => *plain_len,
        }
    }
}

/// A parsed (or to-be-written) recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recipe {
    pub(super) container: Container,
    pub(super) segments: Vec<Segment>,
}

impl Recipe {
    /// The payload length the recipe describes, if it fits in a `u64`.
    pub(super) fn payload_len(&self) -> Option<u64> {
        self.segments
            .iter()
            .try_fold(0u64, |sum, s| sum.checked_add(s.plain_len()))
    }

    /// Serializes the recipe (always version 2).
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, self.container.code()]);
        put_varint(&mut out, self.segments.len() as u64);
        for s in &self.segments {
            match s {
                Segment::Literal(bytes) => {
                    out.push(0);
                    put_bytes(&mut out, bytes);
                }
                Segment::Copy(n) => {
                    out.push(1);
                    put_varint(&mut out, *n);
                }
                Segment::Deflate {
                    plain_len,
                    deflate_len,
                    method,
                } => {
                    out.push(2);
                    put_varint(&mut out, *plain_len);
                    // Always `Some` for what this build writes (`unpack` sets it).
                    put_varint(&mut out, deflate_len.unwrap_or_default());
                    put_method(&mut out, method);
                }
            }
        }
        out
    }

    /// Parses a recipe of either version, checking every length against what remains.
    pub(super) fn parse(bytes: &[u8]) -> Result<Recipe> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(MAGIC.len(), "missing recipe magic")? != MAGIC {
            return Err(r.malformed("not a recipe (bad magic)"));
        }
        let recipe = match r.byte()? {
            VERSION => parse_v2(&mut r)?,
            VERSION_1 => parse_v1(&mut r)?,
            found => {
                return Err(Error::Unsupported {
                    what: "version",
                    found,
                });
            }
        };
        if r.pos != bytes.len() {
            return Err(r.malformed("bytes after the end of the recipe"));
        }
        Ok(recipe)
    }
}

fn put_method(out: &mut Vec<u8>, method: &Method) {
    match method {
        Method::Preflate { engine, chunks } => {
            out.extend_from_slice(&[1, *engine]);
            put_varint(out, chunks.len() as u64);
            for c in chunks {
                put_varint(out, c.plain_len);
                put_bytes(out, &c.corrections);
            }
        }
        Method::Encoder { encoder, fixup } => {
            out.push(2);
            out.extend_from_slice(&encoder.to_bytes());
            put_bytes(out, fixup);
        }
        Method::Reference { offset } => {
            out.push(3);
            put_varint(out, *offset);
        }
    }
}

fn parse_v2(r: &mut Reader<'_>) -> Result<Recipe> {
    let container = match r.byte()? {
        1 => Container::Gzip,
        2 => Container::Zip,
        3 => Container::Bzip2,
        4 => Container::Xz,
        found => {
            return Err(Error::Unsupported {
                what: "container",
                found,
            });
        }
    };
    // Every segment takes at least two bytes.
    let count = r.count(2, "segment count exceeds the recipe")?;
    let mut segments = Vec::with_capacity(count);
    for _ in 0..count {
        let segment = match r.byte()? {
            0 => Segment::Literal(r.bytes("literal length exceeds the recipe")?.to_vec()),
            1 => Segment::Copy(r.varint()?),
            2 => {
                let plain_len = r.varint()?;
                let deflate_len = Some(r.varint()?);
                let method = parse_method(r)?;
                if stream_kind(&method) != container.stream_kind() {
                    return Err(r.malformed("a stream method that does not fit the container"));
                }
                Segment::Deflate {
                    plain_len,
                    deflate_len,
                    method,
                }
            }
            _ => return Err(r.malformed("unknown segment kind")),
        };
        segments.push(segment);
    }
    Ok(Recipe {
        container,
        segments,
    })
}

/// The kind of stream `method` makes: bzip2 and xz containers' streams are made only by
/// their own encoders, gzip's and zip's by every other method (deflate).
fn stream_kind(method: &Method) -> Container {
    match method {
        Method::Encoder {
            encoder: Encoder::Bzip2 { .. },
            ..
        } => Container::Bzip2,
        Method::Encoder {
            encoder: Encoder::Xz(_),
            ..
        } => Container::Xz,
        _ => Container::Gzip,
    }
}

fn parse_method(r: &mut Reader<'_>) -> Result<Method> {
    match r.byte()? {
        1 => {
            let engine = preflate_engine(r.byte()?)?;
            Ok(Method::Preflate {
                engine,
                chunks: parse_chunks(r)?,
            })
        }
        2 => {
            let mut code = [0u8; ENCODED_LEN];
            code.copy_from_slice(r.take(ENCODED_LEN, "truncated encoder")?);
            let encoder =
                Encoder::from_bytes(code).map_err(|reason| Error::Encoder { code, reason })?;
            let fixup = r.bytes("fix-up length exceeds the recipe")?.to_vec();
            Ok(Method::Encoder { encoder, fixup })
        }
        3 => Ok(Method::Reference {
            offset: r.varint()?,
        }),
        _ => Err(r.malformed("unknown deflate method")),
    }
}

fn preflate_engine(engine: u8) -> Result<u8> {
    if PREFLATE_ENGINES.contains(&engine) {
        Ok(engine)
    } else {
        Err(Error::Unsupported {
            what: "engine",
            found: engine,
        })
    }
}

fn parse_chunks(r: &mut Reader<'_>) -> Result<Vec<Chunk>> {
    // A chunk takes at least two bytes (two one-byte varints).
    let count = r.count(2, "chunk count exceeds the recipe")?;
    if count == 0 {
        return Err(r.malformed("deflate stream has no chunk"));
    }
    let mut chunks = Vec::with_capacity(count);
    for _ in 0..count {
        let plain_len = r.varint()?;
        let corrections = r.bytes("corrections length exceeds the recipe")?.to_vec();
        chunks.push(Chunk {
            plain_len,
            corrections,
        });
    }
    Ok(chunks)
}

fn parse_v1(r: &mut Reader<'_>) -> Result<Recipe> {
    let engine = preflate_engine(r.byte()?)?;
    // A member takes at least 12 bytes (three one-byte varints, a non-empty header, the
    // trailer).
    let member_count = r.count(12, "member count exceeds the recipe")?;
    if member_count == 0 {
        return Err(r.malformed("recipe has no member"));
    }
    let mut segments = Vec::with_capacity(member_count * 3 + 1);
    for _ in 0..member_count {
        let header = r.bytes("header length exceeds the recipe")?;
        if header.is_empty() {
            return Err(r.malformed("empty member header"));
        }
        segments.push(Segment::Literal(header.to_vec()));
        let chunks = parse_chunks(r)?;
        let plain_len = chunks
            .iter()
            .try_fold(0u64, |sum, c| sum.checked_add(c.plain_len))
            .ok_or_else(|| r.malformed("chunk lengths overflow"))?;
        segments.push(Segment::Deflate {
            plain_len,
            // Version 1 did not record it.
            deflate_len: None,
            method: Method::Preflate { engine, chunks },
        });
        let trailer = r.take(TRAILER_LEN, "truncated member trailer")?;
        segments.push(Segment::Literal(trailer.to_vec()));
    }
    segments.push(Segment::Literal(
        r.bytes("tail length exceeds the recipe")?.to_vec(),
    ));
    Ok(Recipe {
        container: Container::Gzip,
        segments,
    })
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A cursor over untrusted recipe bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn malformed(&self, reason: &'static str) -> Error {
        Error::Malformed {
            offset: self.pos,
            reason,
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, len: usize, reason: &'static str) -> Result<&'a [u8]> {
        if len > self.remaining() {
            return Err(self.malformed(reason));
        }
        let out = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1, "truncated recipe")?[0])
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1, "truncated varint")?[0];
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.malformed("varint overflows 64 bits"));
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.malformed("varint longer than 10 bytes"))
    }

    /// A count of items that each take at least `min_item_len` bytes; `reason` names it.
    fn count(&mut self, min_item_len: usize, reason: &'static str) -> Result<usize> {
        let n = self.varint()?;
        let max = (self.remaining() / min_item_len) as u64;
        if n > max.min(MAX_COUNT) {
            return Err(self.malformed(reason));
        }
        Ok(n as usize)
    }

    /// A length-prefixed byte string; `reason` says which, should its length be impossible.
    fn bytes(&mut self, reason: &'static str) -> Result<&'a [u8]> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| self.malformed(reason))?;
        self.take(len, reason)
    }
}

#[cfg(test)]
mod tests;
