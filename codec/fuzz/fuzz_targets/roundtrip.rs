//! Encode with each backend (whole and streaming), decode with each backend (whole and
//! streaming): every path must give back the target.
//!
//! Input layout:
//!
//! ```text
//! 0      flags: bit 0 cap the delta at ratio/64 × target (max_ratio); bit 1 also run
//!        StreamEncoder; bits 2..8 the largest piece StreamEncoder/StreamDecoder get
//!        (×64 bytes; 0: one piece)
//! 1      ratio
//! 2..4   raw reference length, u16 LE (clamped to what follows)
//! 4      filler: KiB of pseudo-random bytes appended to the reference (seeded by the input)
//! 5..    raw reference bytes, then edit operations building the target:
//!        op % 5 == 0  copy from the reference: offset u24 LE, length u16 LE
//!                  1  literal: n, then n bytes
//!                  2  run: byte, length u16 LE
//!                  3  copy from the target so far (may overlap): offset u16 LE, length u16 LE
//!                  4  flip the bits of one target byte: offset u16 LE, xor byte
//! ```
#![no_main]

mod common;

use common::Rng;
use deltaglider_codec::{
    Backend, EncodeOptions, Encoded, Sha256, Step, StreamDecoder, StreamEncoder,
    decode_verified_with, decode_with, encode,
};
use libfuzzer_sys::fuzz_target;

/// Largest target the harness builds (keeps an execution in the millisecond range).
const MAX_TARGET: usize = 1 << 20;

/// Reads little-endian integers from the input; missing bytes read as zero.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn uint(&mut self, bytes: u32) -> usize {
        (0..bytes).fold(0, |acc, i| acc | usize::from(self.byte()) << (8 * i))
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (now, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        now
    }
}

struct Case {
    reference: Vec<u8>,
    target: Vec<u8>,
    ratio: Option<f64>,
    stream_encoder: bool,
    /// Largest piece for the streaming encoder and decoder; 0 for one piece.
    piece: usize,
    seed: u64,
}

fn parse(data: &[u8]) -> Case {
    let mut input = Input(data);
    let flags = input.byte();
    let ratio = input.byte();
    let raw_len = input.uint(2);
    let filler = input.uint(1) << 10;
    let mut reference = input.take(raw_len).to_vec();
    let seed = data
        .iter()
        .fold(0u64, |h, &b| h.rotate_left(5) ^ u64::from(b));
    let mut rng = Rng::new(seed);
    reference.extend((0..filler).map(|_| rng.next() as u8));

    let mut target = Vec::new();
    while !input.0.is_empty() && target.len() < MAX_TARGET {
        match input.byte() % 5 {
            0 => {
                let offset = input.uint(3);
                let len = input.uint(2);
                if !reference.is_empty() {
                    let start = offset % reference.len();
                    let end = (start + len).min(reference.len());
                    target.extend_from_slice(&reference[start..end]);
                }
            }
            1 => {
                let n = usize::from(input.byte());
                target.extend_from_slice(input.take(n));
            }
            2 => {
                let byte = input.byte();
                let len = input.uint(2);
                target.resize(target.len() + len, byte);
            }
            3 => {
                let offset = input.uint(2);
                let len = input.uint(2);
                if !target.is_empty() {
                    let start = offset % target.len();
                    for i in start..start + len {
                        target.push(target[i]);
                    }
                }
            }
            _ => {
                let offset = input.uint(2);
                let xor = input.byte();
                if !target.is_empty() {
                    let at = offset % target.len();
                    target[at] ^= xor;
                }
            }
        }
    }
    target.truncate(MAX_TARGET);
    Case {
        reference,
        target,
        ratio: (flags & 1 != 0).then(|| f64::from(ratio) / 64.0),
        stream_encoder: flags & 2 != 0,
        piece: usize::from(flags >> 2) * 64,
        seed,
    }
}

/// Splits `bytes` into pieces of 1..=`max` bytes (one piece when `max` is 0).
fn pieces<'a>(bytes: &'a [u8], max: usize, seed: u64) -> Vec<&'a [u8]> {
    let mut rng = Rng::new(seed);
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let n = if max == 0 {
            rest.len()
        } else {
            rng.size(max).min(rest.len())
        };
        let (now, tail) = rest.split_at(n);
        out.push(now);
        rest = tail;
    }
    out
}

/// Decodes `delta` every way there is and checks each result against the target.
fn check_delta(case: &Case, delta: &[u8], how: &str) {
    let len = case.target.len() as u64;
    for backend in [Backend::Native, Backend::Pure] {
        match decode_with(backend, &case.reference, delta, len) {
            Ok(out) => assert!(out == case.target, "{how}: {backend} decoded wrong bytes"),
            Err(e) => panic!("{how}: {backend} failed to decode: {e}"),
        }
    }
    let digest = Sha256::digest(&case.target);
    if let Err(e) = decode_verified_with(Backend::Native, &case.reference, delta, len, &digest) {
        panic!("{how}: decode_verified failed: {e}");
    }

    let mut decoder = StreamDecoder::new(case.reference.len() as u64, len).expect_sha256(digest);
    let mut out = Vec::new();
    for piece in pieces(delta, case.piece, case.seed ^ 1) {
        decoder.push(piece).expect("StreamDecoder::push");
        while let Some(window) = decoder
            .decode_next(&mut &case.reference[..])
            .unwrap_or_else(|e| panic!("{how}: StreamDecoder failed: {e}"))
        {
            out.extend_from_slice(&window);
        }
    }
    if let Err(e) = decoder.finish() {
        panic!("{how}: StreamDecoder::finish failed: {e}");
    }
    assert!(
        out == case.target,
        "{how}: StreamDecoder decoded wrong bytes"
    );
}

fuzz_target!(|data: &[u8]| {
    let case = parse(data);
    for backend in [Backend::Native, Backend::Pure] {
        let mut options = EncodeOptions::default().backend(backend);
        if let Some(ratio) = case.ratio {
            options = options.max_ratio(ratio);
        }
        let limit = options.limit_for(case.target.len() as u64);

        match encode(&case.reference, &case.target, &options) {
            Ok(Encoded::Delta(delta)) => {
                if let Some(limit) = limit {
                    assert!(delta.len() as u64 <= limit, "{backend}: delta over the cap");
                }
                check_delta(&case, &delta, &format!("encode({backend})"));
            }
            Ok(Encoded::Exceeded { limit: hit }) => {
                assert_eq!(Some(hit), limit, "{backend}: Exceeded without a cap");
            }
            Err(e) => panic!("encode({backend}) failed: {e}"),
        }

        if case.stream_encoder {
            let target_len = Some(case.target.len() as u64);
            let mut encoder = StreamEncoder::new(&case.reference, &options, target_len);
            let mut delta = Vec::new();
            let mut step = Step::Continue;
            for piece in pieces(&case.target, case.piece, case.seed ^ 2) {
                step = encoder
                    .push(piece, &mut delta)
                    .unwrap_or_else(|e| panic!("StreamEncoder({backend}) push failed: {e}"));
                if step != Step::Continue {
                    break;
                }
            }
            if step == Step::Continue {
                step = encoder
                    .finish(&mut delta)
                    .unwrap_or_else(|e| panic!("StreamEncoder({backend}) finish failed: {e}"));
            }
            match step {
                Step::Continue => {
                    if let Some(limit) = limit {
                        assert!(
                            delta.len() as u64 <= limit,
                            "{backend}: stream delta over the cap"
                        );
                    }
                    check_delta(&case, &delta, &format!("StreamEncoder({backend})"));
                }
                Step::Exceeded { limit: hit } => {
                    assert_eq!(Some(hit), limit, "{backend}: stream Exceeded without a cap");
                }
            }
        }
    }
});
