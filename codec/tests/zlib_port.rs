//! `deflate::zlib` against the real zlib: every level, strategy, memory level and
//! window size on inputs of every kind must give the same bytes.

#![cfg(feature = "gzip")]

#[path = "support/inputs.rs"]
mod inputs;
#[path = "support/real_zlib.rs"]
mod real_zlib;

use deltaglider_codec::deflate::zlib::{Flavor, Strategy, ZlibParams, agreement, compress};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

fn params(level: u8, window_bits: u8, mem_level: u8, strategy: Strategy) -> ZlibParams {
    ZlibParams {
        level,
        window_bits,
        mem_level,
        strategy,
        flavor: Flavor::Zlib,
    }
}

/// Compresses with the port and with zlib; panics with the parameters on a difference.
fn assert_same(name: &str, input: &[u8], level: u8, wbits: u8, mem: u8, strategy: Strategy) {
    let want = real_zlib::deflate_raw(
        input,
        level.into(),
        wbits.into(),
        mem.into(),
        strategy.zlib_value().into(),
    );
    let p = params(level, wbits, mem, strategy);
    let mut got = Vec::new();
    compress(input, &p, &mut got);
    if got != want {
        let at = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
        panic!(
            "{name} ({} bytes) {p:?}: port wrote {} bytes, zlib {}; first difference at {at}",
            input.len(),
            got.len(),
            want.len()
        );
    }
    let a = agreement(input, &p, &want);
    assert!(
        a.exact && a.prefix == want.len(),
        "{name} {p:?}: agreement {a:?}"
    );
}

/// The codec's own sources and tests, concatenated: real, mixed data of a few hundred KB.
fn sources() -> Vec<u8> {
    let mut files = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src"), root.join("tests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .flat_map(|f| std::fs::read(f).expect("source file"))
        .collect()
}

/// Every level, strategy, memory level 1/8/9 and window 9/12/15 on `input`.
fn all_parameters(name: &str, input: &[u8]) {
    for level in 0..=9 {
        for strategy in Strategy::ALL {
            for mem in [1, 8, 9] {
                for wbits in [9, 12, 15] {
                    assert_same(name, input, level, wbits, mem, strategy);
                }
            }
        }
    }
}

#[test]
fn all_parameters_on_tiny_inputs() {
    all_parameters("empty", &[]);
    all_parameters("one byte", b"x");
    all_parameters("two bytes", b"ab");
    all_parameters("three bytes", b"abc");
}

#[test]
fn all_parameters_on_repetitive_input() {
    all_parameters("repetitive", &b"abcabcabd".repeat(2000));
    all_parameters("zeros", &[0; 70_000]);
}

#[test]
fn all_parameters_on_random_input() {
    all_parameters("random", &inputs::random(40_000, 1));
}

#[test]
fn all_parameters_on_text() {
    all_parameters("text", &inputs::text(90_000, 2));
}

#[test]
fn real_sources_match_zlib() {
    let src = sources();
    assert!(src.len() > 200_000, "sources are {} bytes", src.len());
    for level in 0..=9 {
        for strategy in Strategy::ALL {
            assert_same("sources", &src, level, 15, 8, strategy);
        }
        assert_same("sources", &src, level, 9, 1, Strategy::Default);
        assert_same("sources", &src, level, 12, 9, Strategy::Filtered);
    }
}

#[test]
fn large_inputs_slide_the_window_and_match_zlib() {
    let text = inputs::text(1_500_000, 3);
    let random = inputs::random(1_100_000, 4);
    for level in [1, 3, 4, 6, 9] {
        assert_same("large text", &text, level, 15, 8, Strategy::Default);
        assert_same("large text", &text, level, 10, 9, Strategy::Default);
        assert_same("large random", &random, level, 15, 8, Strategy::Default);
    }
    assert_same("large text", &text, 0, 15, 8, Strategy::Default);
    assert_same("large text", &text, 6, 15, 8, Strategy::Rle);
}

#[test]
fn agreement_stops_at_the_first_different_block() {
    let input = inputs::text(600_000, 5);
    let p6 = params(6, 15, 8, Strategy::Default);
    let mut stream = Vec::new();
    compress(&input, &p6, &mut stream);
    // A wrong level reproduces less than the whole stream.
    let a = agreement(&input, &params(5, 15, 8, Strategy::Default), &stream);
    assert!(!a.exact && a.prefix < stream.len(), "{a:?}");
    // A change late in the stream is found at its position.
    let mut changed = stream.clone();
    let at = stream.len() - 100;
    changed[at] ^= 1;
    let a = agreement(&input, &p6, &changed);
    assert_eq!(
        a,
        deltaglider_codec::deflate::zlib::Agreement {
            prefix: at,
            exact: false
        }
    );
    // A truncated or extended stream is not exact.
    assert!(!agreement(&input, &p6, &stream[..stream.len() - 1]).exact);
    let mut longer = stream.clone();
    longer.push(0);
    let a = agreement(&input, &p6, &longer);
    assert!(!a.exact && a.prefix == stream.len(), "{a:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_inputs_match_zlib(
        input in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..5000),
            proptest::collection::vec(0u8..4, 0..20_000),
            (0usize..60_000, any::<u64>()).prop_map(|(n, seed)| inputs::text(n, seed)),
        ],
        level in 0u8..=9,
        wbits in 9u8..=15,
        mem in 1u8..=9,
        strategy in 0usize..5,
    ) {
        assert_same("proptest", &input, level, wbits, mem, Strategy::ALL[strategy]);
    }
}
