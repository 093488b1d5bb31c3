//! The recipe's byte format: writing it, and parsing it without trusting it.
//!
//! Layout (all integers unsigned LEB128 varints unless a width is given):
//!
//! ```text
//! recipe  = "DGZ" version:u8 engine:u8 member_count member{member_count} tail_len tail
//! member  = header_len header chunk_count chunk{chunk_count} trailer:[u8; 8]
//! chunk   = plain_len corrections_len corrections
//! ```
//!
//! Every length is checked against the bytes that remain before anything is allocated, so
//! a recipe can claim no more memory than its own size.

use super::error::{Error, Result};
use super::header::TRAILER_LEN;

/// The first bytes of every recipe.
const MAGIC: &[u8; 3] = b"DGZ";
/// The recipe layout version this build writes and reads.
pub(super) const VERSION: u8 = 1;
/// Deflate engine 1: corrections produced by `preflate-rs` 0.7.6, streamed in chunks.
pub(super) const ENGINE_PREFLATE_0_7: u8 = 1;
/// Deflate engine 2: engine 1 plus Chromium zlib's hash as a candidate (the crate
/// `deltaglider-preflate`: the vendored, patched `preflate-rs`, `vendor/README.md`). It
/// reads engine-1 corrections unchanged (the patch only adds a hash), so both are read by
/// the same code; recipes are written as engine 2 because they may need that hash.
pub(super) const ENGINE_PREFLATE_0_7_CHROMIUM: u8 = 2;

/// One piece of a member's deflate stream: how much payload it covers and the engine's
/// corrections that turn that payload back into the original deflate bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chunk<'a> {
    pub(super) plain_len: u64,
    pub(super) corrections: &'a [u8],
}

/// One gzip member: verbatim header and trailer around a chunked deflate stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member<'a> {
    pub(super) header: &'a [u8],
    pub(super) chunks: Vec<Chunk<'a>>,
    pub(super) trailer: &'a [u8],
}

/// A parsed (or to-be-written) recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recipe<'a> {
    pub(super) members: Vec<Member<'a>>,
    /// Bytes after the last member (padding some tools append), stored verbatim.
    pub(super) tail: &'a [u8],
}

impl Recipe<'_> {
    /// The payload length the recipe describes, if it fits in a `u64`.
    pub(super) fn payload_len(&self) -> Option<u64> {
        self.members
            .iter()
            .flat_map(|m| &m.chunks)
            .try_fold(0u64, |sum, c| sum.checked_add(c.plain_len))
    }

    /// Serializes the recipe.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, ENGINE_PREFLATE_0_7_CHROMIUM]);
        put_varint(&mut out, self.members.len() as u64);
        for m in &self.members {
            put_bytes(&mut out, m.header);
            put_varint(&mut out, m.chunks.len() as u64);
            for c in &m.chunks {
                put_varint(&mut out, c.plain_len);
                put_bytes(&mut out, c.corrections);
            }
            out.extend_from_slice(m.trailer);
        }
        put_bytes(&mut out, self.tail);
        out
    }

    /// Parses a recipe, checking every length against the bytes that remain.
    pub(super) fn parse(bytes: &[u8]) -> Result<Recipe<'_>> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(MAGIC.len(), "missing recipe magic")? != MAGIC {
            return Err(r.malformed("not a gzip recipe (bad magic)"));
        }
        let version = r.byte()?;
        if version != VERSION {
            return Err(Error::Unsupported {
                what: "version",
                found: version,
            });
        }
        let engine = r.byte()?;
        if engine != ENGINE_PREFLATE_0_7 && engine != ENGINE_PREFLATE_0_7_CHROMIUM {
            return Err(Error::Unsupported {
                what: "engine",
                found: engine,
            });
        }
        // A member takes at least 12 bytes (three one-byte varints, an empty header is
        // refused below, the trailer), a chunk at least 2: capacities never exceed what
        // the remaining bytes could hold.
        let member_count = r.count(12, "member count exceeds the recipe")?;
        if member_count == 0 {
            return Err(r.malformed("recipe has no member"));
        }
        let mut members = Vec::with_capacity(member_count);
        for _ in 0..member_count {
            let header = r.bytes("header length exceeds the recipe")?;
            if header.is_empty() {
                return Err(r.malformed("empty member header"));
            }
            let chunk_count = r.count(2, "chunk count exceeds the recipe")?;
            if chunk_count == 0 {
                return Err(r.malformed("member has no chunk"));
            }
            let mut chunks = Vec::with_capacity(chunk_count);
            for _ in 0..chunk_count {
                let plain_len = r.varint()?;
                let corrections = r.bytes("corrections length exceeds the recipe")?;
                chunks.push(Chunk {
                    plain_len,
                    corrections,
                });
            }
            let trailer = r.take(TRAILER_LEN, "truncated member trailer")?;
            members.push(Member {
                header,
                chunks,
                trailer,
            });
        }
        let tail = r.bytes("tail length exceeds the recipe")?;
        if r.pos != bytes.len() {
            return Err(r.malformed("bytes after the end of the recipe"));
        }
        Ok(Recipe { members, tail })
    }
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
        Ok(self.take(1, "truncated recipe header")?[0])
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
        let max = self.remaining() / min_item_len;
        match usize::try_from(n) {
            Ok(n) if n <= max => Ok(n),
            _ => Err(self.malformed(reason)),
        }
    }

    /// A length-prefixed byte string; `reason` says which, should its length be impossible.
    fn bytes(&mut self, reason: &'static str) -> Result<&'a [u8]> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| self.malformed(reason))?;
        self.take(len, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recipe<'static> {
        Recipe {
            members: vec![Member {
                header: &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
                chunks: vec![
                    Chunk {
                        plain_len: 300,
                        corrections: b"abc",
                    },
                    Chunk {
                        plain_len: u64::MAX / 2,
                        corrections: b"",
                    },
                ],
                trailer: &[1, 2, 3, 4, 5, 6, 7, 8],
            }],
            tail: b"\0\0",
        }
    }

    #[test]
    fn round_trip() {
        let r = sample();
        let bytes = r.to_bytes();
        assert_eq!(Recipe::parse(&bytes).expect("parses"), r);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            assert!(
                Recipe::parse(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Recipe::parse(&longer).is_err());
    }

    #[test]
    fn huge_counts_and_lengths_are_refused() {
        let mut b = b"DGZ\x01\x01".to_vec();
        put_varint(&mut b, u64::MAX);
        assert!(matches!(Recipe::parse(&b), Err(Error::Malformed { .. })));
        let mut b = b"DGZ\x01\x01\x01".to_vec();
        put_varint(&mut b, 1 << 40);
        b.extend_from_slice(&[0; 32]);
        assert!(matches!(Recipe::parse(&b), Err(Error::Malformed { .. })));
        let b = b"DGZ\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
        assert!(matches!(Recipe::parse(b), Err(Error::Malformed { .. })));
    }

    #[test]
    fn unknown_version_or_engine() {
        assert!(matches!(
            Recipe::parse(b"DGZ\x02\x01"),
            Err(Error::Unsupported {
                what: "version",
                found: 2
            })
        ));
        assert!(matches!(
            Recipe::parse(b"DGZ\x01\x09"),
            Err(Error::Unsupported {
                what: "engine",
                found: 9
            })
        ));
    }
}
