//! The real compression tools, run as a person would, and inputs like what they compress.

use std::io::Write;
use std::process::{Command, Stdio};

use deltaglider_codec::container::{Container, Limits, kind, payload, repack, unpack};

#[path = "inputs.rs"]
pub(crate) mod inputs;

/// What `program args…` writes for `input` on stdin.
pub(crate) fn run(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("output");
    writer.join().expect("writer").expect("input written");
    assert!(out.status.success(), "{program} {args:?} failed");
    out.stdout
}

/// A tar-like mix: text, runs, binary and repeats, over several blocks at `-1`.
pub(crate) fn mixed(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut part = 0u64;
    while out.len() < len {
        part += 1;
        match part % 4 {
            0 => out.extend(inputs::text(70_000, seed + part)),
            1 => out.extend(inputs::random(20_000, seed + part)),
            2 => out.extend(std::iter::repeat_n(b'\0', 30_000)),
            _ => {
                let start = out.len() / 2;
                let copy = out[start..start + 10_000.min(out.len() - start)].to_vec();
                out.extend(copy);
            }
        }
    }
    out.truncate(len);
    out
}

/// Checks that `file`, a `container` written by a real tool, unpacks to `plain` (which is
/// also its payload as a reference) and repacks to itself; returns the recipe.
pub(crate) fn assert_round_trip(
    container: Container,
    name: &str,
    file: &[u8],
    plain: &[u8],
) -> Vec<u8> {
    assert_eq!(kind(file), Some(container), "{name}");
    let unpacked = unpack(file, &Limits::default())
        .expect("recipe reads back")
        .unwrap_or_else(|| panic!("{name}: not rebuilt"));
    assert_eq!(unpacked.container, container);
    assert_eq!(
        unpacked.payload, plain,
        "{name}: payload is what the tool decompresses"
    );
    assert_eq!(payload(file, &Limits::default()).as_deref(), Some(plain));
    let back = repack(&unpacked.payload, &unpacked.recipe).expect("repack");
    assert_eq!(back, file, "{name}");
    unpacked.recipe
}

/// A recipe (version 2) of one stream of `stream_len` bytes and an empty payload:
/// container code `container`, the stream's encoder bytes `encoder`, no fix-up.
pub(crate) fn recipe(container: u8, encoder: [u8; 5], stream_len: u8) -> Vec<u8> {
    let mut r = b"DGZ\x02".to_vec();
    r.extend_from_slice(&[container, 1, 2, 0, stream_len, 2]);
    r.extend_from_slice(&encoder);
    r.push(0);
    r
}
