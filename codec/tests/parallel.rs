//! Encoding a large target on several threads: one valid delta, about as small as one
//! thread's, decoded by both backends (and so by `xdelta3 -d`, which reads the same windows).
#![cfg(all(feature = "native", not(target_arch = "wasm32")))]

mod common;

use common::noise;
use deltaglider_codec::{Backend, EncodeOptions, Encoded, decode_with, encode};

fn delta(reference: &[u8], target: &[u8], options: &EncodeOptions) -> Vec<u8> {
    match encode(reference, target, options).expect("encode") {
        Encoded::Delta(d) => d,
        Encoded::Exceeded { limit } => panic!("exceeded {limit}"),
    }
}

#[test]
fn segments_join_into_one_delta() {
    let reference = noise(1, 26 << 20);
    let mut target = reference.clone();
    for at in (0..target.len() - 100).step_by(300_001) {
        target[at..at + 40].copy_from_slice(&noise(at as u64, 40));
    }
    // Content moved across the cut points still matches: each segment sees all of it.
    target.rotate_left(5 << 20);
    let base = EncodeOptions::default().backend(Backend::Native).level(3);
    let one = delta(&reference, &target, &base);
    for threads in [2, 3, 8] {
        let many = delta(&reference, &target, &base.threads(threads));
        assert!(
            many.len() <= one.len() + one.len() / 50 + 4096,
            "{threads} threads: {} bytes against {}",
            many.len(),
            one.len()
        );
        for backend in [Backend::Native, Backend::Pure] {
            let back =
                decode_with(backend, &reference, &many, target.len() as u64).expect("decodes");
            assert!(
                back == target,
                "{threads} threads, {backend:?} decode differs"
            );
        }
    }
}

#[test]
fn small_targets_and_caps() {
    let reference = noise(2, 4 << 20);
    let options = EncodeOptions::default()
        .backend(Backend::Native)
        .threads(4)
        .max_ratio(0.5);
    // Below two segments' worth: one thread, as before.
    let small = delta(&reference, &reference[..3 << 20], &options);
    assert!(small.len() < 1000);
    // Unrelated data gives up, whichever segment hits its cap.
    let unrelated = noise(3, 20 << 20);
    assert!(matches!(
        encode(&reference, &unrelated, &options).expect("encode"),
        Encoded::Exceeded { .. }
    ));
}

#[test]
fn the_ratio_limit_applies_to_the_whole_target_not_each_segment() {
    // 10 MiB unchanged, then 6 MiB new: the delta is ~37 % of the target, under a 40 %
    // limit, though the second of two segments alone is 75 % new.
    let reference = noise(5, 16 << 20);
    let mut target = reference.clone();
    target[10 << 20..].copy_from_slice(&noise(6, 6 << 20));
    let options = EncodeOptions::default()
        .backend(Backend::Native)
        .max_ratio(0.4)
        .threads(2);
    let d = delta(&reference, &target, &options);
    assert!(d.len() < (16 << 20) * 2 / 5);
    assert_eq!(
        decode_with(Backend::Pure, &reference, &d, target.len() as u64).expect("decode"),
        target
    );
    // And a target over the limit as a whole is still refused.
    target[4 << 20..].copy_from_slice(&noise(7, 12 << 20));
    assert!(matches!(
        encode(&reference, &target, &options).expect("encode"),
        Encoded::Exceeded { .. }
    ));
}
