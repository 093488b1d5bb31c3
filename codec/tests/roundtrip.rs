//! Property tests: every backend round-trips random edits, in memory and streamed in random
//! pieces, and each backend decodes the other's deltas byte for byte.

mod common;

use deltaglider_codec::{
    Backend, EncodeOptions, Encoded, Sha256, Step, StreamDecoder, StreamEncoder,
    decode_verified_with, decode_with, encode,
};
use proptest::prelude::*;

/// A reference and a target derived from it by random edits.
fn reference_and_target() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let reference = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..4096),
        (any::<u64>(), 0usize..200_000).prop_map(|(seed, len)| common::noise(seed, len)),
        // Low-entropy data, where target self-copies and runs matter.
        (any::<u8>(), 0usize..50_000)
            .prop_map(|(b, len)| (0..len).map(|i| b ^ (i / 97) as u8).collect()),
    ];
    let edits = proptest::collection::vec((any::<u32>(), 0u8..4, any::<u64>(), 0usize..300), 0..12);
    (reference, edits).prop_map(|(reference, edits)| {
        let mut target = reference.clone();
        for (at, kind, seed, len) in edits {
            let at = if target.is_empty() {
                0
            } else {
                at as usize % target.len()
            };
            let end = (at + len).min(target.len());
            match kind {
                0 => {
                    target.splice(at..at, common::noise(seed, len));
                }
                1 => {
                    target.drain(at..end);
                }
                2 => {
                    let noise = common::noise(seed, end - at);
                    target[at..end].copy_from_slice(&noise);
                }
                _ => {
                    // Move a block: the same bytes elsewhere.
                    let block: Vec<u8> = target.drain(at..end).collect();
                    let to = (seed as usize) % (target.len() + 1);
                    target.splice(to..to, block);
                }
            }
        }
        (reference, target)
    })
}

fn delta(backend: Backend, reference: &[u8], target: &[u8]) -> Vec<u8> {
    match encode(
        reference,
        target,
        &EncodeOptions::default().backend(backend),
    ) {
        Ok(Encoded::Delta(d)) => d,
        other => panic!("{backend}: uncapped encode gave {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_backend_decodes_every_backend((reference, target) in reference_and_target()) {
        let digest = Sha256::digest(&target);
        for encoder in Backend::available() {
            let delta = delta(encoder, &reference, &target);
            for decoder in Backend::available() {
                let out = decode_verified_with(decoder, &reference, &delta, target.len() as u64, &digest);
                prop_assert_eq!(out.ok(), Some(target.clone()), "{} -> {}", encoder, decoder);
            }
        }
    }

    #[test]
    fn streaming_encode_in_random_pieces_matches(
        (reference, target) in reference_and_target(),
        cuts in proptest::collection::vec(1usize..70_000, 1..8),
    ) {
        for backend in Backend::available() {
            let options = EncodeOptions::default().backend(backend).chunk_size(1);
            let mut encoder = StreamEncoder::new(&reference, &options, Some(target.len() as u64));
            let mut delta = Vec::new();
            let mut rest = &target[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*cut).min(rest.len()));
                prop_assert_eq!(encoder.push(piece, &mut delta).ok(), Some(Step::Continue));
                rest = tail;
            }
            prop_assert_eq!(encoder.finish(&mut delta).ok(), Some(Step::Continue));
            for decoder in Backend::available() {
                let out = decode_with(decoder, &reference, &delta, target.len() as u64);
                prop_assert_eq!(out.ok(), Some(target.clone()), "{} -> {}", backend, decoder);
            }
        }
    }

    #[test]
    fn streaming_decode_in_random_pieces_matches(
        (reference, target) in reference_and_target(),
        cuts in proptest::collection::vec(1usize..5_000, 1..8),
    ) {
        for backend in Backend::available() {
            let delta = delta(backend, &reference, &target);
            let mut decoder = StreamDecoder::new(reference.len() as u64, target.len() as u64)
                .expect_sha256(Sha256::digest(&target));
            let mut out = Vec::new();
            let mut rest = &delta[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*cut).min(rest.len()));
                decoder.push(piece).map_err(|e| TestCaseError::fail(e.to_string()))?;
                while let Some(window) = decoder
                    .decode_next(&mut &reference[..])
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                {
                    out.extend_from_slice(&window);
                }
                rest = tail;
            }
            prop_assert!(decoder.finish().is_ok());
            prop_assert_eq!(&out, &target);
        }
    }

    #[test]
    fn the_cap_is_honoured(
        (reference, target) in reference_and_target(),
        ratio in 0.0f64..1.2,
    ) {
        for backend in Backend::available() {
            let options = EncodeOptions::default().backend(backend).max_ratio(ratio);
            let limit = (ratio * target.len() as f64).floor() as usize;
            match encode(&reference, &target, &options) {
                Ok(Encoded::Delta(d)) => {
                    prop_assert!(d.len() <= limit, "{}: {} > {}", backend, d.len(), limit);
                    prop_assert_eq!(decode_with(backend, &reference, &d, target.len() as u64).ok(), Some(target.clone()));
                }
                Ok(Encoded::Exceeded { limit: l }) => {
                    prop_assert_eq!(l as usize, limit);
                    // Only exceeded if the uncapped delta really is larger.
                    prop_assert!(delta(backend, &reference, &target).len() > limit);
                }
                Err(e) => prop_assert!(false, "{}: {}", backend, e),
            }
        }
    }
}

#[test]
fn multi_window_targets_round_trip_in_memory_and_streamed() {
    // Larger than two 8 MiB windows, to cross window and native-chunk boundaries.
    let reference = common::noise(7, 18 << 20);
    let target = common::edited(&reference, 8, 10);
    for backend in Backend::available() {
        let options = EncodeOptions::default()
            .backend(backend)
            .chunk_size(5 << 20);
        let whole = delta(backend, &reference, &target);
        let mut encoder = StreamEncoder::new(&reference, &options, Some(target.len() as u64));
        let mut streamed = Vec::new();
        for piece in target.chunks(3 << 20) {
            assert_eq!(
                encoder.push(piece, &mut streamed).ok(),
                Some(Step::Continue)
            );
        }
        assert_eq!(encoder.finish(&mut streamed).ok(), Some(Step::Continue));
        assert!(
            whole.len() < target.len() / 20 && streamed.len() < target.len() / 20,
            "{backend}: {} and {} bytes for 1 % edits",
            whole.len(),
            streamed.len()
        );
        for d in [&whole, &streamed] {
            for decoder in Backend::available() {
                let out = decode_with(decoder, &reference, d, target.len() as u64);
                assert!(out.ok() == Some(target.clone()), "{backend} -> {decoder}");
            }
        }
    }
}

#[test]
fn a_poor_candidate_gives_up_early() {
    let reference = common::noise(1, 4 << 20);
    let unrelated = common::noise(2, 4 << 20);
    for backend in Backend::available() {
        let options = EncodeOptions::default().backend(backend).max_ratio(0.5);
        assert_eq!(
            encode(&reference, &unrelated, &options).ok(),
            Some(Encoded::Exceeded { limit: 2 << 20 }),
            "{backend}"
        );
        let mut encoder = StreamEncoder::new(&reference, &options, Some(unrelated.len() as u64));
        let mut out = Vec::new();
        let step = unrelated
            .chunks(1 << 20)
            .map(|piece| encoder.push(piece, &mut out))
            .find(|s| !matches!(s, Ok(Step::Continue)));
        let step = match step {
            Some(step) => step,
            None => encoder.finish(&mut out),
        };
        assert_eq!(
            step.ok(),
            Some(Step::Exceeded { limit: 2 << 20 }),
            "{backend}"
        );
        assert!(out.len() <= 2 << 20);
    }
}

#[test]
fn adjacent_runs_of_different_bytes_round_trip() {
    // oxidelta 0.1.4's own encoder merges these runs into one and writes a corrupt delta.
    let reference: Vec<u8> = (0..1150usize).map(|i| (i / 97) as u8).collect();
    let target = [&[1u8][..], &reference].concat();
    for backend in Backend::available() {
        let d = delta(backend, &reference, &target);
        for decoder in Backend::available() {
            let out = decode_with(decoder, &reference, &d, target.len() as u64);
            assert!(out.ok() == Some(target.clone()), "{backend} -> {decoder}");
        }
    }
}

#[test]
fn a_copy_ending_at_the_reference_end_then_a_target_copy_round_trips() {
    // Found by the `roundtrip` fuzz target: the pure encoder merged these two copies into
    // one that ran past the reference (codec/fuzz/regressions/).
    let reference = common::noise(5, 32 << 10);
    let target = [&reference[8299..], &reference[8299..8331]].concat();
    for backend in Backend::available() {
        let d = delta(backend, &reference, &target);
        for decoder in Backend::available() {
            let out = decode_with(decoder, &reference, &d, target.len() as u64);
            assert!(out.ok() == Some(target.clone()), "{backend} -> {decoder}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn ranges_decode_to_the_same_bytes_as_slices(
        (reference, target) in reference_and_target(),
        a in any::<u64>(),
        b in any::<u64>(),
    ) {
        let len = target.len() as u64;
        let (start, end) = if len == 0 { (0, 0) } else { let x = a % len; let y = b % (len + 1); (x.min(y), x.max(y)) };
        for backend in Backend::available() {
            let delta = delta(backend, &reference, &target);
            let part = deltaglider_codec::decode_range(&reference, &delta, len, start..end);
            prop_assert_eq!(part.ok(), Some(target[start as usize..end as usize].to_vec()), "{}", backend);
            // Given only the reference ranges it says it reads, the same bytes.
            let reads = deltaglider_codec::range_reads(reference.len() as u64, &delta, len, start..end)
                .expect("plan");
            let mut sparse = Sparse::of(&reference, &reads);
            let part = deltaglider_codec::decode_range_from(&mut sparse, &delta, len, start..end);
            prop_assert_eq!(part.ok(), Some(target[start as usize..end as usize].to_vec()), "{}", backend);
        }
    }
}

/// A reference of which only some ranges are at hand; reading anything else fails.
struct Sparse {
    len: u64,
    parts: Vec<(u64, Vec<u8>)>,
}

impl Sparse {
    fn of(reference: &[u8], reads: &[std::ops::Range<u64>]) -> Self {
        Self {
            len: reference.len() as u64,
            parts: reads
                .iter()
                .map(|r| {
                    (
                        r.start,
                        reference[r.start as usize..r.end as usize].to_vec(),
                    )
                })
                .collect(),
        }
    }
}

impl deltaglider_codec::ReferenceReader for Sparse {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let end = offset + buf.len() as u64;
        let part = self
            .parts
            .iter()
            .find(|(start, bytes)| *start <= offset && end <= start + bytes.len() as u64)
            .ok_or_else(|| std::io::Error::other(format!("{offset}..{end} was not planned")))?;
        let from = (offset - part.0) as usize;
        buf.copy_from_slice(&part.1[from..from + buf.len()]);
        Ok(())
    }
}

#[test]
fn a_suffix_range_decodes_only_the_last_windows() {
    let reference = common::noise(41, 20 << 20);
    let target = common::edited(&reference, 42, 10);
    let d = delta(Backend::preferred(), &reference, &target);
    let len = target.len() as u64;
    let part =
        deltaglider_codec::decode_range(&reference, &d, len, len - 100..len).expect("suffix");
    assert_eq!(part, &target[target.len() - 100..]);
    // A corrupted early window is not touched by a suffix read; a corrupted late one is caught.
    let mut bad = d.clone();
    let last = bad.len() - 10;
    bad[last] ^= 0x55;
    assert!(deltaglider_codec::decode_range(&reference, &bad, len, len - 100..len).is_err());
    // A suffix read needs a small part of the reference, not all 20 MiB of it.
    let reads = deltaglider_codec::range_reads(reference.len() as u64, &d, len, len - 100..len)
        .expect("plan");
    let needed: u64 = reads.iter().map(|r| r.end - r.start).sum();
    assert!(
        needed <= 9 << 20,
        "a suffix read needs {needed} reference bytes"
    );
}
