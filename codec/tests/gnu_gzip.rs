//! `deflate::zlib` with `Flavor::Gnu` against the real `gzip` command: every level on
//! inputs of every kind must give the bytes `gzip -n` writes between its 10-byte header
//! and 8-byte trailer. A machine without `gzip` fails these tests: they are the proof.

#![cfg(feature = "gzip")]

#[path = "support/inputs.rs"]
mod inputs;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use deltaglider_codec::deflate::zlib::{Flavor, ZlibParams, agreement, compress};
use proptest::prelude::*;

/// A fresh file name: the tests run in parallel.
fn temp_path() -> std::path::PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("dg-gnu-gzip-{}-{n}", std::process::id()))
}

/// The raw deflate stream `gzip -<level> -n -c` writes for `input`, read from a regular
/// file (as `gzip a.tar` reads it).
fn real_gzip(input: &[u8], level: u8) -> Vec<u8> {
    let path = temp_path();
    std::fs::write(&path, input).expect("temp file");
    let out = Command::new("gzip")
        .arg(format!("-{level}"))
        .args(["-n", "-c"])
        .arg(&path)
        .output()
        .expect("the gzip command runs");
    std::fs::remove_file(&path).expect("temp file removed");
    assert!(out.status.success(), "gzip -{level} failed");
    let gz = out.stdout;
    assert!(
        gz.len() >= 18 && gz[..3] == [0x1f, 0x8b, 8],
        "not a gzip file"
    );
    gz[10..gz.len() - 8].to_vec()
}

fn assert_same(name: &str, input: &[u8], level: u8) {
    let want = real_gzip(input, level);
    let p = ZlibParams::new(level, Flavor::Gnu);
    let mut got = Vec::new();
    compress(input, &p, &mut got);
    if got != want {
        let at = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
        panic!(
            "{name} ({} bytes) gzip -{level}: port wrote {} bytes, gzip {}; first difference at {at}",
            input.len(),
            got.len(),
            want.len()
        );
    }
    let a = agreement(input, &p, &want);
    assert!(a.exact && a.prefix == want.len(), "{name} -{level}: {a:?}");
}

#[test]
fn small_inputs_match_gzip_at_every_level() {
    let inputs = [
        ("empty", Vec::new()),
        ("one", vec![b'x']),
        ("two", b"ab".to_vec()),
        ("repetitive", b"abcabcabd".repeat(2000)),
        ("zeros", vec![0; 70_000]),
        ("random", inputs::random(40_000, 1)),
        ("text", inputs::text(90_000, 2)),
    ];
    for (name, input) in &inputs {
        for level in 1..=9 {
            assert_same(name, input, level);
        }
    }
}

#[test]
fn multi_megabyte_inputs_match_gzip_at_every_level() {
    let text = inputs::text(3_000_000, 3);
    let random = inputs::random(1_100_000, 4);
    let mut mixed = inputs::text(700_000, 5);
    mixed.extend(inputs::random(300_000, 6));
    mixed.extend(vec![7; 200_000]);
    mixed.extend(inputs::text(900_000, 7));
    for level in 1..=9 {
        assert_same("text", &text, level);
        assert_same("random", &random, level);
        assert_same("mixed", &mixed, level);
    }
}

/// A whole `gzip -9` file, as `tar czf` or `gzip a.tar` leaves it (with name and time),
/// is unpacked with GNU gzip's encoder named in its recipe, and repacks exactly.
#[test]
fn gzip_files_unpack_with_the_gnu_encoder() {
    use deltaglider_codec::container::{Limits, describe, repack, unpack};
    let mut input = inputs::text(400_000, 8);
    input.extend(inputs::random(50_000, 9));
    let path = temp_path();
    std::fs::write(&path, &input).expect("temp file");
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&path)
        .output()
        .expect("the gzip command runs");
    std::fs::remove_file(&path).expect("temp file removed");
    assert!(out.status.success());
    let gz = out.stdout;
    let unpacked = unpack(&gz, &Limits::default())
        .expect("recipe reads back")
        .expect("gzip -9 output is rebuilt");
    assert_eq!(unpacked.payload, input);
    let streams = describe(&unpacked.recipe).expect("recipe parses").streams;
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].method, "GNU gzip level 9");
    assert_eq!(
        repack(&unpacked.payload, &unpacked.recipe).expect("repacks"),
        gz
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_inputs_match_gzip(
        input in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..5000),
            proptest::collection::vec(0u8..4, 0..80_000),
            (0usize..150_000, any::<u64>()).prop_map(|(n, seed)| inputs::text(n, seed)),
        ],
        level in 1u8..=9,
    ) {
        assert_same("proptest", &input, level);
    }
}
