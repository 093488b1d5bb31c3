//! The bit writer (zlib's `send_bits`, `bi_windup`, `put_short`) and the comparison of
//! what has been written with an expected stream.
//!
//! zlib packs bits least significant first into a 16-bit buffer; the bytes that come out
//! depend only on the order of the bits, so a 64-bit accumulator writes the same stream
//! with fewer stores.

/// Deflate bit output, optionally checked against the stream it should reproduce.
pub(super) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Where this stream starts in `out` (the caller may have put bytes before it).
    start: usize,
    acc: u64,
    nbits: u32,
    /// The stream this output should equal, when checking.
    expected: Option<&'a [u8]>,
    /// Leading bytes of this stream already compared equal to `expected`.
    agreed: usize,
    diverged: bool,
}

impl<'a> BitWriter<'a> {
    /// Appends to `out`; when `expected` is given, [`check`](Self::check) compares with it.
    pub(super) fn new(out: &'a mut Vec<u8>, expected: Option<&'a [u8]>) -> Self {
        let start = out.len();
        Self {
            out,
            start,
            acc: 0,
            nbits: 0,
            expected,
            agreed: 0,
            diverged: false,
        }
    }

    /// Sends the low `len` bits of `value` (`len` ≤ 16; `value` has no higher bits set).
    #[inline]
    pub(super) fn send_bits(&mut self, value: u32, len: u32) {
        debug_assert!(len <= 16 && (len == 16 || value >> len == 0));
        self.acc |= u64::from(value) << self.nbits;
        self.nbits += len;
        if self.nbits >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.nbits -= 32;
        }
    }

    /// Pads to a byte boundary with zero bits and writes out everything buffered.
    pub(super) fn windup(&mut self) {
        let bytes = self.nbits.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
        self.acc = 0;
        self.nbits = 0;
    }

    /// Writes bytes at a byte boundary (after [`windup`](Self::windup)).
    pub(super) fn put_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.nbits, 0);
        self.out.extend_from_slice(bytes);
    }

    /// Compares the complete bytes written so far with the expected stream. Returns
    /// `false` once they differ (or the output runs past it): the encoder can stop.
    pub(super) fn check(&mut self) -> bool {
        let Some(expected) = self.expected else {
            return true;
        };
        if self.diverged {
            return false;
        }
        let written = &self.out[self.start..];
        let new = &written[self.agreed..];
        let want = &expected[self.agreed.min(expected.len())..];
        let same = new.iter().zip(want).take_while(|(a, b)| a == b).count();
        self.agreed += same;
        self.diverged = same < new.len();
        !self.diverged
    }

    /// Leading bytes of the expected stream reproduced, and whether the whole stream
    /// (same length, same bytes) was. Call after the final [`windup`](Self::windup).
    pub(super) fn agreement(mut self) -> (usize, bool) {
        self.check();
        let exact = !self.diverged
            && self
                .expected
                .is_some_and(|e| e.len() == self.out.len() - self.start);
        (self.agreed, exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_pack_lsb_first_and_windup_pads() {
        let mut out = vec![0xAA];
        let mut w = BitWriter::new(&mut out, None);
        w.send_bits(0b1, 1);
        w.send_bits(0b10, 2);
        w.send_bits(0xFFFF, 16);
        w.windup();
        assert_eq!(out, [0xAA, 0b1111_1101, 0xFF, 0b0000_0111]);
    }

    #[test]
    fn check_finds_the_first_differing_byte() {
        let expected = [1u8, 2, 3, 4];
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out, Some(&expected));
        w.send_bits(0x0201, 16);
        assert!(w.check());
        w.send_bits(0x0903, 16);
        w.windup();
        assert!(!w.check());
        assert_eq!(w.agreement(), (3, false));
    }
}
