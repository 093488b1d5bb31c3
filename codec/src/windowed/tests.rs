use proptest::prelude::*;

use super::*;
use crate::memory::decode;
use crate::options::Backend;
use crate::stream::StreamDecoder;

/// Text-like bytes: words from a small vocabulary, so matches are plentiful but placed.
fn texty(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&[u8]; 8] = [
        b"alpha ", b"beta ", b"gamma\n", b"delta ", b"tensor ", b"x", b"42 ", b"row;",
    ];
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(WORDS[(state % 8) as usize]);
        out.extend_from_slice(&(state >> 40).to_le_bytes()[..2]);
    }
    out.truncate(len);
    out
}

/// Encodes `target` chunk by chunk, reading segments from `reference`; also returns the
/// reference bytes the segments covered in all.
fn windowed(reference: &[u8], target: &[u8], encoder: WindowedEncoder) -> (Vec<u8>, u64) {
    let mut encoder = encoder;
    let mut delta = Vec::new();
    let mut read = 0;
    for chunk in target.chunks(encoder.chunk_size()) {
        let range = encoder.segment_for(chunk.len());
        read += range.end - range.start;
        let segment = &reference[range.start as usize..range.end as usize];
        encoder.push(chunk, segment, &mut delta).expect("push");
    }
    encoder.finish(&mut delta).expect("finish");
    (delta, read)
}

/// `reference` with `edits`: (position per mille, kind, length) inserts, deletes and
/// overwrites, applied from the end so positions stay meaningful.
fn edited(reference: &[u8], edits: &[(u16, u8, u16)], seed: u64) -> Vec<u8> {
    let mut target = reference.to_vec();
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (i, &(at, kind, len)) in sorted.iter().enumerate() {
        let at = target.len() * usize::from(at) / 1000;
        let len = usize::from(len);
        match kind % 3 {
            0 => {
                let bytes = texty(len, seed + i as u64);
                target.splice(at..at, bytes);
            }
            1 => {
                let end = (at + len).min(target.len());
                target.drain(at..end);
            }
            _ => {
                let end = (at + len).min(target.len());
                for b in &mut target[at..end] {
                    *b = b.wrapping_add(1);
                }
            }
        }
    }
    target
}

#[test]
fn small_edits_cost_little_and_every_window_reads_its_segment_only() {
    let reference = texty(3_000_000, 1);
    let target = edited(
        &reference,
        &[(100, 0, 3000), (400, 1, 5000), (700, 2, 100)],
        9,
    );
    for backend in Backend::available() {
        let options = EncodeOptions::default().backend(backend);
        let encoder = WindowedEncoder::new(reference.len() as u64, &options)
            .chunk(256 << 10)
            .margin(64 << 10);
        let (delta, read) = windowed(&reference, &target, encoder);
        assert!(delta.len() < 20_000, "{backend}: {} bytes", delta.len());
        // Each segment is a chunk plus two margins at most.
        let chunks = target.len().div_ceil(256 << 10) as u64;
        assert!(read <= chunks * ((256 << 10) + (128 << 10)));
        assert_eq!(
            decode(&reference, &delta, target.len() as u64).expect("decode"),
            target
        );
        // The streaming decoder asks for no more than those segments.
        let mut decoder = StreamDecoder::new(reference.len() as u64, target.len() as u64);
        decoder.push(&delta).expect("push");
        let mut out = Vec::new();
        while let Some(range) = decoder.ready().expect("ready") {
            assert!(range.end - range.start <= (256 << 10) + (128 << 10));
            let segment = &reference[range.start as usize..range.end as usize];
            out.extend(decoder.decode_ready(segment).expect("window"));
        }
        assert_eq!(out, target);
    }
}

#[test]
fn drift_from_many_inserts_is_followed() {
    // 40 inserts of 20 KB: 800 KB of drift in all, far beyond one 64 KiB margin.
    let reference = texty(4_000_000, 2);
    let edits: Vec<(u16, u8, u16)> = (0..40).map(|i| (i * 25 + 3, 0, 20_000)).collect();
    let target = edited(&reference, &edits, 3);
    let encoder = WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default())
        .chunk(256 << 10)
        .margin(64 << 10);
    let (delta, _) = windowed(&reference, &target, encoder);
    assert_eq!(
        decode(&reference, &delta, target.len() as u64).expect("decode"),
        target
    );
    // The inserted 800 KB are new; everything else is found.
    assert!(delta.len() < 900_000, "{} bytes", delta.len());
}

#[test]
fn empty_target_and_empty_reference() {
    let reference = texty(100_000, 4);
    let (delta, _) = windowed(
        &reference,
        &[],
        WindowedEncoder::new(100_000, &EncodeOptions::default()),
    );
    assert_eq!(decode(&reference, &delta, 0).expect("decode"), b"");
    let target = texty(300_000, 5);
    let (delta, read) = windowed(
        &[],
        &target,
        WindowedEncoder::new(0, &EncodeOptions::default()).chunk(64 << 10),
    );
    assert_eq!(read, 0);
    assert_eq!(
        decode(&[], &delta, target.len() as u64).expect("decode"),
        target
    );
}

#[test]
fn a_segment_of_the_wrong_length_is_refused() {
    let reference = texty(500_000, 6);
    let mut encoder =
        WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default()).chunk(64 << 10);
    let chunk = &reference[..64 << 10];
    let range = encoder.segment_for(chunk.len());
    let short = &reference[range.start as usize..range.end as usize - 1];
    assert!(encoder.push(chunk, short, &mut Vec::new()).is_err());
}

#[test]
fn varints_are_vcdiff_integers() {
    for (v, bytes) in [
        (0u64, vec![0u8]),
        (127, vec![127]),
        (128, vec![0x81, 0]),
        (16_384, vec![0x81, 0x80, 0]),
    ] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        assert_eq!(out, bytes, "{v}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_edits_round_trip(
        len in 0usize..600_000,
        edits in proptest::collection::vec((0u16..1000, 0u8..3, 1u16..20_000), 0..12),
        chunk in 64usize..200,
        margin in 0u64..100_000,
        seed in any::<u64>(),
    ) {
        let reference = texty(len, seed);
        let target = edited(&reference, &edits, seed ^ 1);
        for backend in Backend::available() {
            let options = EncodeOptions::default().backend(backend);
            let encoder = WindowedEncoder::new(reference.len() as u64, &options)
                .chunk(chunk << 10)
                .margin(margin);
            let (delta, _) = windowed(&reference, &target, encoder);
            prop_assert_eq!(decode(&reference, &delta, target.len() as u64).expect("decode"), target.clone());
        }
    }
}

#[test]
fn chunks_planned_in_order_may_be_encoded_in_any_order() {
    let reference = texty(3 << 20, 11);
    let mut target = reference.clone();
    target.splice(700_000..700_000, texty(5_000, 12));
    target.drain(2_000_000..2_003_000);
    let make = || {
        WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default())
            .chunk(256 << 10)
            .margin(64 << 10)
    };
    let (pushed, _) = windowed(&reference, &target, make());

    let mut encoder = make();
    let mut plans = Vec::new();
    for chunk in target.chunks(encoder.chunk_size()) {
        let range = encoder.segment_for(chunk.len());
        let segment = &reference[range.start as usize..range.end as usize];
        plans.push((encoder.plan(chunk, segment).expect("plan"), chunk));
    }
    // Encoded last to first, as threads may finish them.
    let mut encoded: Vec<EncodedChunk> = plans
        .iter()
        .rev()
        .map(|(plan, chunk)| {
            let range = plan.segment();
            plan.encode(chunk, &reference[range.start as usize..range.end as usize])
                .expect("encode")
        })
        .collect();
    encoded.reverse();
    let mut delta = Vec::new();
    for chunk in encoded {
        encoder.append(chunk, &mut delta).expect("append");
    }
    encoder.finish(&mut delta).expect("finish");
    assert_eq!(delta, pushed);
    assert_eq!(
        decode(&reference, &delta, target.len() as u64).expect("decode"),
        target
    );
}

#[test]
fn a_plan_refuses_other_bytes_than_planned() {
    let reference = texty(1 << 20, 3);
    let mut encoder = WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default())
        .chunk(128 << 10)
        .margin(16 << 10);
    let chunk = &reference[..128 << 10];
    let range = encoder.segment_for(chunk.len());
    let segment = &reference[range.start as usize..range.end as usize];
    let plan = encoder.plan(chunk, segment).expect("plan");
    assert!(matches!(
        plan.encode(&chunk[1..], segment),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        plan.encode(chunk, &segment[1..]),
        Err(Error::LengthMismatch { .. })
    ));
}

#[test]
fn a_block_moved_beyond_the_edit_margin_is_still_found_within_the_segment() {
    let reference = texty(8 << 20, 21);
    let mut target = reference.clone();
    // 100 KiB from 3 MiB further on pasted over bytes at 1 MiB (as a moved block would be).
    let moved = reference[4 << 20..(4 << 20) + 100_000].to_vec();
    target[1 << 20..(1 << 20) + 100_000].copy_from_slice(&moved);
    let encoder = WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default());
    let (delta, _) = windowed(&reference, &target, encoder);
    assert!(delta.len() < 5_000, "{} bytes", delta.len());
    assert_eq!(
        decode(&reference, &delta, target.len() as u64).expect("decode"),
        target
    );
}

#[test]
fn an_unchanged_target_is_copies_only() {
    let reference = texty(6 << 20, 22);
    let encoder =
        WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default()).chunk(1 << 20);
    let (delta, _) = windowed(&reference, &reference, encoder);
    // A file header and six windows of one COPY each.
    assert!(delta.len() < 6 * 32 + 32, "{} bytes", delta.len());
    assert_eq!(
        decode(&reference, &delta, reference.len() as u64).expect("decode"),
        reference
    );
}

#[test]
fn a_chunk_verifies_against_its_own_bytes_and_not_others() {
    let reference = texty(2 << 20, 31);
    let mut target = reference.clone();
    target.splice(300_000..300_000, texty(3_000, 32));
    let mut encoder = WindowedEncoder::new(reference.len() as u64, &EncodeOptions::default())
        .chunk(1 << 20)
        .margin(128 << 10);
    for chunk in target.chunks(1 << 20) {
        let range = encoder.segment_for(chunk.len());
        let segment = &reference[range.start as usize..range.end as usize];
        let plan = encoder.plan(chunk, segment).expect("plan");
        let encoded = plan.encode(chunk, segment).expect("encode");
        plan.verify(&encoded, chunk, segment).expect("verifies");
        let mut other = chunk.to_vec();
        other[chunk.len() / 2] ^= 1;
        assert!(plan.verify(&encoded, &other, segment).is_err());
    }
}

#[test]
fn an_identity_delta_rebuilds_the_bytes_on_every_backend_built() {
    // Over several windows, the last one short; and a single-window one.
    for len in [(1 << 24) * 2 + 12_345, 70_000] {
        let data = texty(len, len as u64);
        let delta = crate::identity_delta(&data);
        assert!(
            delta.len() < 64 * (len / (1 << 24) + 1),
            "{} bytes",
            delta.len()
        );
        let backends: &[Backend] = if cfg!(feature = "native") {
            &[Backend::Native, Backend::Pure]
        } else {
            &[Backend::Pure]
        };
        for &backend in backends {
            let back = crate::decode_with(backend, &data, &delta, len as u64).expect("decodes");
            assert!(back == data, "{backend:?}");
        }
        // A byte of the reference changed: the windows' Adler-32 catches it.
        let mut other = data.clone();
        other[len / 2] ^= 1;
        assert!(crate::decode(&other, &delta, len as u64).is_err());
    }
}
