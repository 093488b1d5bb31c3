//! Input layout shared by the `decode` and `stream_decode` targets, so one seed corpus
//! (`seeds/decode/`) feeds both.
//!
//! ```text
//! offset  size  field
//! 0       2     reference length, u16 LE (clamped to the bytes that follow the header)
//! 2       4     expected_len, u32 LE
//! 6       1     flags (FLAG_*)
//! 7       1     chunk: stream_decode pushes the delta in pieces of 1..=chunk bytes
//!               (0: in one piece)
//! 8       ..    reference bytes, then delta bytes
//! ```
#![allow(dead_code)]

use deltaglider_codec::{Backend, Error, MAX_WINDOW, decode_with};

/// Bytes before the reference.
pub const HEADER_LEN: usize = 8;

/// Ignore the header's expected_len and use the length the delta's framing declares, so
/// mutated deltas still reach the backends instead of failing the length check.
pub const FLAG_AUTO_LEN: u8 = 1 << 0;
/// stream_decode: drive the decoder with `ready` + `decode_ready` instead of `decode_next`.
pub const FLAG_READY_API: u8 = 1 << 1;
/// stream_decode: ask `finish` to check the SHA-256 of the pure backend's output.
pub const FLAG_SHA256: u8 = 1 << 2;
/// stream_decode: ask `finish` to check a wrong SHA-256 (it must then fail).
pub const FLAG_WRONG_SHA256: u8 = 1 << 3;

/// The harness skips inputs whose expected length is above this: the caller chooses
/// `expected_len` (it comes from trusted metadata), and a handful of 16 MiB RUN windows
/// would otherwise make every execution slow without testing anything new.
pub const MAX_EXPECTED: u64 = 2 * MAX_WINDOW + 4096;

/// One decode case carved out of the fuzzer's bytes.
#[derive(Debug)]
pub struct DecodeCase<'a> {
    pub reference: &'a [u8],
    pub delta: &'a [u8],
    pub expected_len: u64,
    pub flags: u8,
    pub chunk: u8,
}

impl<'a> DecodeCase<'a> {
    /// Splits `data`; `None` for inputs too short for the header or expecting too much.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (header, rest) = data.split_first_chunk::<HEADER_LEN>()?;
        let reference_len = usize::from(u16::from_le_bytes([header[0], header[1]])).min(rest.len());
        let (reference, delta) = rest.split_at(reference_len);
        let mut expected_len = u64::from(u32::from_le_bytes([
            header[2], header[3], header[4], header[5],
        ]));
        let flags = header[6];
        if flags & FLAG_AUTO_LEN != 0 {
            // The framing check runs before any backend: with an impossible expected
            // length it reports the declared one without decoding anything.
            if let Err(Error::LengthMismatch { actual, .. }) =
                decode_with(Backend::Pure, reference, delta, u64::MAX)
            {
                expected_len = actual;
            }
        }
        if expected_len > MAX_EXPECTED {
            return None;
        }
        Some(Self {
            reference,
            delta,
            expected_len,
            flags,
            chunk: header[7],
        })
    }
}

/// A small deterministic generator (xorshift64*) for sizes derived from the input.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `1..=max` (`max` ≥ 1).
    pub fn size(&mut self, max: usize) -> usize {
        1 + (self.next() % max as u64) as usize
    }
}
