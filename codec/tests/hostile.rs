//! Damaged and adversarial deltas: every one is an `Err`, never a panic, a wrong result or
//! an allocation the size of what the delta claims.

mod common;

use deltaglider_codec::{
    Backend, EncodeOptions, Error, Sha256, StreamDecoder, decode_verified_with, decode_with, encode,
};

fn sample() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let reference = common::noise(11, 300_000);
    let target = common::edited(&reference, 12, 20);
    let delta = encode(&reference, &target, &EncodeOptions::default())
        .expect("encode")
        .into_delta()
        .expect("uncapped");
    (reference, target, delta)
}

fn all_decoders_reject(reference: &[u8], delta: &[u8], expected_len: u64) -> Vec<Error> {
    Backend::available()
        .map(|b| match decode_with(b, reference, delta, expected_len) {
            Ok(out) => panic!("{b} accepted a bad delta ({} bytes out)", out.len()),
            Err(e) => e,
        })
        .collect()
}

#[test]
fn every_truncation_is_rejected() {
    let (reference, target, delta) = sample();
    for cut in (0..delta.len()).step_by(7).chain([delta.len() - 1]) {
        all_decoders_reject(&reference, &delta[..cut], target.len() as u64);
    }
}

#[test]
fn corrupted_bytes_never_yield_wrong_output() {
    let (reference, target, delta) = sample();
    let digest = Sha256::digest(&target);
    for (i, at) in (0..delta.len()).step_by(3).enumerate() {
        let mut bad = delta.clone();
        bad[at] ^= 1 << (i % 8);
        for backend in Backend::available() {
            // Adler-32 catches most flips; the SHA-256 check catches the rest.
            if let Ok(out) =
                decode_verified_with(backend, &reference, &bad, target.len() as u64, &digest)
            {
                assert_eq!(out, target, "{backend}: flip at {at} gave wrong bytes");
            }
        }
    }
}

#[test]
fn claimed_lengths_are_checked_before_allocating() {
    let (reference, target, delta) = sample();
    // The caller's expectation disagrees with the delta: refused up front.
    for expected in [0, target.len() as u64 - 1, target.len() as u64 + 1, 1 << 40] {
        for e in all_decoders_reject(&reference, &delta, expected) {
            assert!(matches!(e, Error::LengthMismatch { .. }), "{e}");
        }
    }
    // A window claiming 1 TB of target and section lengths to match.
    let mut huge = vec![0xD6, 0xC3, 0xC4, 0, 0, 0];
    huge.extend([0x9F, 0xFF, 0xFF, 0xFF, 0x7F]); // enc_len
    huge.extend([0x9F, 0xFF, 0xFF, 0xFF, 0x7F]); // target window length
    huge.extend([0, 0x9F, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0]);
    for e in all_decoders_reject(&[], &huge, 1 << 40) {
        assert!(matches!(e, Error::Malformed { .. }), "{e}");
    }
}

#[test]
fn wrong_reference_is_caught() {
    let (reference, target, delta) = sample();
    let mut other = reference.clone();
    other[1000..1100].fill(0);
    let digest = Sha256::digest(&target);
    for backend in Backend::available() {
        let e = decode_verified_with(backend, &other, &delta, target.len() as u64, &digest)
            .expect_err("a different reference cannot reproduce the target");
        assert!(
            matches!(
                e,
                Error::WindowChecksum { .. }
                    | Error::ChecksumMismatch { .. }
                    | Error::Backend { .. }
            ),
            "{backend}: {e}"
        );
        // A reference too short for the delta's copies.
        let e = decode_with(backend, &reference[..1000], &delta, target.len() as u64)
            .expect_err("short reference");
        assert!(
            matches!(e, Error::ReferenceTooShort { .. }),
            "{backend}: {e}"
        );
    }
}

#[test]
fn sha256_mismatch_returns_no_bytes() {
    let (reference, target, delta) = sample();
    let wrong = Sha256::digest(b"something else");
    for backend in Backend::available() {
        match decode_verified_with(backend, &reference, &delta, target.len() as u64, &wrong) {
            Err(Error::ChecksumMismatch { expected, actual }) => {
                assert_eq!(expected, wrong);
                assert_eq!(actual, Sha256::digest(&target));
            }
            other => panic!("{backend}: {other:?}"),
        }
    }
}

#[test]
fn streaming_decoder_rejects_trailing_junk_short_input_and_bad_digests() {
    let (reference, target, delta) = sample();
    let run = |bytes: &[u8], expected_len: u64, sha| {
        let mut d = StreamDecoder::new(reference.len() as u64, expected_len).expect_sha256(sha);
        d.push(bytes)?;
        while d.decode_next(&mut &reference[..])?.is_some() {}
        d.finish()
    };
    let good = Sha256::digest(&target);
    assert_eq!(run(&delta, target.len() as u64, good).ok(), Some(good));
    let junk = [&delta[..], b"junk"].concat();
    assert!(run(&junk, target.len() as u64, good).is_err());
    assert!(run(&delta[..delta.len() - 3], target.len() as u64, good).is_err());
    assert!(run(&delta, target.len() as u64 - 1, good).is_err());
    assert!(matches!(
        run(&delta, target.len() as u64, Sha256::digest(b"x")),
        Err(Error::ChecksumMismatch { .. })
    ));
    assert!(
        run(b"", 0, Sha256::digest(b"")).is_err(),
        "an empty delta is not VCDIFF"
    );
}

#[test]
fn secondary_compression_is_decoded_or_refused_never_misdecoded() {
    let (reference, target, mut delta) = sample();
    // Announce LZMA in the header: still decodable, since no window uses it ...
    delta.splice(4..5, [1u8, 2]);
    for backend in Backend::available() {
        let out = decode_with(backend, &reference, &delta, target.len() as u64);
        assert_eq!(out.ok().as_ref(), Some(&target), "{backend}");
    }
    // ... a window claiming LZMA sections that are not LZMA is refused as corrupt (as
    // unsupported by a build without the `lzma` feature) ...
    let mut compressed = delta.clone();
    let window = 6;
    let delta_indicator = find_delta_indicator(&compressed[window..]) + window;
    compressed[delta_indicator] = 1;
    for e in all_decoders_reject(&reference, &compressed, target.len() as u64) {
        if cfg!(feature = "lzma") {
            assert!(matches!(e, Error::Corrupt { .. }), "{e}");
        } else {
            assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        }
    }
    // ... as are sections that are not DJW or FGK; an unknown compressor is malformed.
    for compressor in [1, 16] {
        compressed[5] = compressor;
        for e in all_decoders_reject(&reference, &compressed, target.len() as u64) {
            assert!(matches!(e, Error::Corrupt { .. }), "{compressor}: {e}");
        }
    }
    compressed[5] = 7;
    for e in all_decoders_reject(&reference, &compressed, target.len() as u64) {
        assert!(matches!(e, Error::Malformed { .. }), "{e}");
    }
}

/// Offset of the delta indicator in a window that starts at `w[0]`.
fn find_delta_indicator(w: &[u8]) -> usize {
    let varint_len = |at: usize| {
        w[at..]
            .iter()
            .position(|b| b & 0x80 == 0)
            .map(|p| p + 1)
            .unwrap_or(0)
    };
    let mut at = 1;
    if w[0] & 1 != 0 {
        at += varint_len(at);
        at += varint_len(at);
    }
    at += varint_len(at); // enc_len
    at += varint_len(at); // target length
    at
}
