//! Interop with the real `xdelta3` command (Debian package `xdelta3`): our deltas decode
//! with `xdelta3 -d`, and its deltas decode with both of our backends.

use std::fs;
use std::path::Path;

use deltaglider_codec::{Backend, EncodeOptions, decode_with, encode};
use deltaglider_tests::{run, scratch_dir};

/// A reference and a similar target: about 20 MiB (three xdelta3 windows) with scattered
/// insertions, deletions and rewrites.
fn pair(len: usize) -> (Vec<u8>, Vec<u8>) {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let reference: Vec<u8> = (0..len).map(|_| (next() >> 32) as u8).collect();
    let mut target = Vec::with_capacity(len);
    let mut i = 0;
    while i < len {
        let keep = 4096 + (next() % 8192) as usize;
        target.extend_from_slice(&reference[i..(i + keep).min(len)]);
        i += keep;
        match next() % 3 {
            0 => target.extend((0..40).map(|_| next() as u8)),
            1 => i += 40,
            _ => {
                target.extend((0..40).map(|_| next() as u8));
                i += 40;
            }
        }
    }
    (reference, target)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write scratch file");
    path
}

#[test]
fn our_deltas_decode_with_the_xdelta3_command() {
    let dir = scratch_dir("ours-to-cli");
    let (reference, target) = pair(20 << 20);
    let reference_path = write(&dir, "reference.bin", &reference);
    for backend in Backend::available() {
        let delta = encode(
            &reference,
            &target,
            &EncodeOptions::default().backend(backend),
        )
        .expect("encode")
        .into_delta()
        .expect("uncapped");
        let delta_path = write(&dir, "v2.delta", &delta);
        let out = dir.join("v2.out");
        run(
            "xdelta3",
            &[
                Path::new("-d"),
                Path::new("-f"),
                Path::new("-s"),
                &reference_path,
                &delta_path,
                &out,
            ],
        );
        assert!(fs::read(&out).expect("read output") == target, "{backend}");
    }
}

#[test]
fn xdelta3_command_deltas_decode_with_both_backends() {
    let dir = scratch_dir("cli-to-ours");
    let (reference, target) = pair(20 << 20);
    let reference_path = write(&dir, "reference.bin", &reference);
    let target_path = write(&dir, "v2.bin", &target);
    // Default level and -9 (the Python DeltaGlider CLI's), both without secondary compression.
    for level in ["-3", "-9"] {
        let delta_path = dir.join(format!("v2{level}.delta"));
        run(
            "xdelta3",
            &[
                Path::new("-e"),
                Path::new("-f"),
                Path::new(level),
                Path::new("-S"),
                Path::new("none"),
                Path::new("-s"),
                &reference_path,
                &target_path,
                &delta_path,
            ],
        );
        let delta = fs::read(&delta_path).expect("read delta");
        assert!(
            delta.len() < target.len() / 20,
            "{level}: {} bytes",
            delta.len()
        );
        for backend in Backend::available() {
            let out = decode_with(backend, &reference, &delta, target.len() as u64);
            assert!(out.ok() == Some(target.clone()), "{level} -> {backend}");
        }
    }
}

#[test]
fn xdelta3_default_secondary_compression_decodes_with_both_backends() {
    let dir = scratch_dir("cli-secondary");
    let (reference, target) = pair(2 << 20);
    let reference_path = write(&dir, "reference.bin", &reference);
    // An identical copy: xdelta3 announces LZMA, but no window uses it; a changed one:
    // its windows' sections are LZMA-compressed (what the Python CLI stores).
    let same_path = write(&dir, "same.bin", &reference);
    let changed_path = write(&dir, "changed.bin", &target);
    for (input, bytes) in [(&same_path, &reference), (&changed_path, &target)] {
        let delta_path = dir.join("d.delta");
        run(
            "xdelta3",
            &[
                Path::new("-e"),
                Path::new("-f"),
                Path::new("-9"),
                Path::new("-s"),
                &reference_path,
                input,
                &delta_path,
            ],
        );
        let delta = fs::read(&delta_path).expect("read delta");
        for backend in Backend::available() {
            let out = decode_with(backend, &reference, &delta, bytes.len() as u64)
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
            assert!(out == *bytes, "{backend}: wrong bytes");
        }
    }
}
