//! Deterministic synthetic inputs: a pseudo-random reference and a target with about 1 % of
//! its bytes touched by small scattered edits.
//!
//! Shared by `examples/codec_bench.rs` and `benches/codec.rs` (through `#[path]`), so both
//! measure the same pair.
#![allow(dead_code)]

/// Seed of the reference bytes.
pub(crate) const REFERENCE_SEED: u64 = 1;
/// Seed of the edits.
pub(crate) const EDIT_SEED: u64 = 2;

/// xorshift64: deterministic and dependency-free.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..n` (slightly biased; irrelevant here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// `len` pseudo-random bytes.
pub(crate) fn reference(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    XorShift::new(REFERENCE_SEED).fill(&mut bytes);
    bytes
}

/// What [`edited`] did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Edits {
    /// Number of edits.
    pub(crate) count: usize,
    /// Bytes inserted, deleted or replaced, summed.
    pub(crate) bytes: usize,
}

/// `base` with an edit every 2–6 KiB (mean 4 KiB): an insertion, a deletion or a
/// replacement of 8–72 bytes (mean 40), chosen at random. About 1 % of the bytes change.
pub(crate) fn edited(base: &[u8]) -> (Vec<u8>, Edits) {
    let mut rng = XorShift::new(EDIT_SEED);
    let mut out = Vec::with_capacity(base.len() + base.len() / 64);
    let mut edits = Edits::default();
    let mut scratch = [0u8; 72];
    let mut pos = 0;
    loop {
        let gap = 2048 + rng.below(4096) as usize;
        if pos + gap >= base.len() {
            out.extend_from_slice(&base[pos..]);
            return (out, edits);
        }
        out.extend_from_slice(&base[pos..pos + gap]);
        pos += gap;
        let len = 8 + rng.below(65) as usize;
        let fresh = &mut scratch[..len];
        rng.fill(fresh);
        match rng.below(3) {
            0 => out.extend_from_slice(fresh),
            1 => pos = (pos + len).min(base.len()),
            _ => {
                out.extend_from_slice(fresh);
                pos = (pos + len).min(base.len());
            }
        }
        edits.count += 1;
        edits.bytes += len;
    }
}
