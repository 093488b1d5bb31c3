//! Deltas whose sections the real `xdelta3` compressed with a secondary compressor (its
//! `-S` option; LZMA is the default of Debian's build, and so of every object the
//! DeltaGlider CLI writes): fixtures made by the command (`fixtures/secondary/README.md`),
//! and fresh deltas from the command at several levels and window sizes. A machine without
//! `xdelta3` fails the tests: they are the proof (`scripts/test-all` installs it).

#![cfg(feature = "lzma")]

#[path = "support/tools.rs"]
#[allow(dead_code)]
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;

use deltaglider_codec::{
    Error, Sha256, StreamDecoder, declared_target_len, decode, decode_range, decode_verified,
};
use tools::mixed;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/secondary")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes `delta` every way the crate offers and checks each gives `target`.
fn assert_decodes_every_way(name: &str, reference: &[u8], delta: &[u8], target: &[u8]) {
    let len = target.len() as u64;
    assert_eq!(declared_target_len(delta).expect(name), len, "{name}");
    assert_eq!(decode(reference, delta, len).expect(name), target, "{name}");
    let digest = Sha256::digest(target);
    assert_eq!(
        decode_verified(reference, delta, len, &digest).expect(name),
        target,
        "{name}"
    );
    for piece in [1, 7, 4096, delta.len()] {
        assert_eq!(
            stream_decode(reference, delta, len, piece).expect(name),
            target
        );
    }
    let middle = len / 3..len / 3 + len / 4;
    let part = decode_range(reference, delta, len, middle.clone()).expect(name);
    assert_eq!(
        part,
        &target[middle.start as usize..middle.end as usize],
        "{name}"
    );
}

/// `delta` pushed into a [`StreamDecoder`] `piece` bytes at a time.
fn stream_decode(reference: &[u8], delta: &[u8], len: u64, piece: usize) -> Result<Vec<u8>, Error> {
    let mut decoder = StreamDecoder::new(reference.len() as u64, len);
    let mut out = Vec::new();
    for chunk in delta.chunks(piece) {
        decoder.push(chunk)?;
        while let Some(window) = decoder.decode_next(&mut &reference[..])? {
            out.extend_from_slice(&window);
        }
    }
    decoder.finish()?;
    Ok(out)
}

#[test]
fn fixtures_from_the_xdelta3_command_decode() {
    let (reference, target) = (fixture("reference.txt"), fixture("target.txt"));
    for name in [
        "lzma.vcdiff",
        "lzma-9.vcdiff",
        "lzma-one-window.vcdiff",
        "none.vcdiff",
    ] {
        assert_decodes_every_way(name, &reference, &fixture(name), &target);
    }
}

#[test]
fn every_damaged_byte_fails_or_decodes_right() {
    let (reference, target) = (fixture("reference.txt"), fixture("target.txt"));
    for name in ["lzma.vcdiff", "djw.vcdiff", "djw9.vcdiff", "fgk.vcdiff"] {
        damaged_bytes_fail_or_decode_right(&reference, &fixture(name), &target);
    }
}

fn damaged_bytes_fail_or_decode_right(reference: &[u8], delta: &[u8], target: &[u8]) {
    let len = target.len() as u64;
    let mut refused = 0;
    for at in 0..delta.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut damaged = delta.to_vec();
            damaged[at] ^= flip;
            // An Adler-32 per window stands between a damaged section and wrong bytes.
            match decode(reference, &damaged, len) {
                Ok(out) => assert_eq!(out, target, "byte {at} ^ {flip:#x} decoded wrong"),
                Err(_) => refused += 1,
            }
            if let Ok(out) = stream_decode(reference, &damaged, len, 333) {
                assert_eq!(out, target, "byte {at} ^ {flip:#x} streamed wrong");
            }
        }
    }
    assert!(refused > delta.len(), "most damage is noticed ({refused})");
}

#[test]
fn multi_window_fgk_that_xdelta3_cannot_read_is_refused_not_misread() {
    let (reference, target) = (fixture("reference.txt"), fixture("target.txt"));
    let delta = fixture("fgk-windows.vcdiff");
    let len = target.len() as u64;
    assert!(matches!(
        decode(&reference, &delta, len),
        Err(Error::Corrupt { .. })
    ));
    assert!(stream_decode(&reference, &delta, len, 1000).is_err());
}

#[test]
fn cut_short_anywhere_is_an_error() {
    let (reference, target) = (fixture("reference.txt"), fixture("target.txt"));
    let delta = fixture("lzma.vcdiff");
    for len in 0..delta.len() {
        let cut = &delta[..len];
        assert!(
            decode(&reference, cut, target.len() as u64).is_err(),
            "{len}"
        );
        assert!(stream_decode(&reference, cut, target.len() as u64, 64).is_err());
    }
}

/// A scratch file for the command's inputs.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dg-secondary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("scratch file");
    path
}

fn xdelta3(args: &[&str], reference: &Path, target: &Path) -> Vec<u8> {
    let out = Command::new("xdelta3")
        .args(["-e", "-c"])
        .args(args)
        .arg("-s")
        .arg(reference)
        .arg(target)
        .output()
        .unwrap_or_else(|e| panic!("xdelta3 runs (scripts/test-all installs it): {e}"));
    assert!(out.status.success(), "xdelta3 {args:?} failed");
    out.stdout
}

#[test]
fn fresh_deltas_from_the_command_decode_at_every_level_and_window() {
    let reference = mixed(1_500_000, 11);
    let mut target = reference.clone();
    // Edits spread through: changed bytes, an insertion, a deletion, new material.
    target[100_000..100_400].copy_from_slice(&mixed(400, 12));
    target.splice(700_000..700_000, mixed(30_000, 13));
    target.drain(1_200_000..1_210_000);
    target.extend(mixed(50_000, 14));
    // New text: data sections the secondary compressors shrink (DJW skips random bytes).
    target.splice(300_000..300_000, tools::inputs::text(200_000, 15));
    let (ref_path, target_path) = (scratch("reference", &reference), scratch("target", &target));
    // `djw9`: DJW with several code groups per section (plain `djw` uses one); FGK in one
    // window (see `multi_window_fgk_…`).
    let several = ["lzma", "djw", "djw9"]
        .into_iter()
        .flat_map(|s| ["16384", "65536", "8388608"].map(|w| (s, w)));
    for (secondary, window, level) in several
        .chain([("fgk", "8388608")])
        .flat_map(|(s, w)| ["-1", "-3", "-6", "-9"].map(|l| (s, w, l)))
    {
        {
            let args = ["-S", secondary, "-W", window, level];
            let delta = xdelta3(&args, &ref_path, &target_path);
            let name = format!("xdelta3 {}", args.join(" "));
            assert_decodes_every_way(&name, &reference, &delta, &target);
        }
    }
    let _ = std::fs::remove_dir_all(ref_path.parent().expect("scratch dir"));
}

#[test]
fn the_window_index_marks_secondary_deltas_sequential() {
    let target = fixture("target.txt");
    for (name, sequential) in [
        ("lzma.vcdiff", true),
        ("djw.vcdiff", true),
        ("none.vcdiff", false),
    ] {
        let mut builder = deltaglider_codec::IndexBuilder::new(u64::MAX);
        for piece in fixture(name).chunks(100) {
            builder.push(piece).expect(name);
        }
        let index = builder.finish().expect(name);
        assert_eq!(index.target_len(), target.len() as u64, "{name}");
        assert_eq!(index.sequential(), sequential, "{name}");
    }
}
