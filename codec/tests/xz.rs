//! xz containers written by the real tools: the `xz` command at every preset, extreme,
//! every check, concatenated with padding; Python's `lzma` module; and a multi-block file
//! (`xz -T2 --block-size`), which is stored whole or with a fix-up, never rebuilt wrong. A
//! machine without `xz` fails the tests: they are the proof (`scripts/test-all` installs it).

#![cfg(feature = "gzip")]

#[path = "support/tools.rs"]
mod tools;

use tools::{assert_round_trip, mixed, recipe, run};

use deltaglider_codec::container::{
    Container, Error, Limits, describe, kind, payload, repack, unpack,
};

fn xz(input: &[u8], args: &[&str]) -> Vec<u8> {
    let mut all = vec!["-c", "-T1"];
    all.extend_from_slice(args);
    run("xz", &all, input)
}

#[test]
fn the_xz_command_is_reproduced_at_every_preset() {
    let input = mixed(700_000, 5);
    for preset in 0..=9 {
        for extreme in ["", "e"] {
            let flag = format!("-{preset}{extreme}");
            let file = xz(&input, &[&flag]);
            let recipe = assert_round_trip(Container::Xz, &flag, &file, &input);
            assert!(recipe.len() < 32, "{flag}: recipe of {} B", recipe.len());
            let d = describe(&recipe).expect("describe");
            assert_eq!(d.streams.len(), 1);
            assert_eq!(
                d.streams[0].method,
                format!("xz {flag}, check 4 (XZ Utils 5.8)")
            );
        }
    }
}

#[test]
fn every_check_empty_and_tiny_inputs_and_concatenated_streams() {
    let input = mixed(300_000, 6);
    for check in ["none", "crc32", "crc64", "sha256"] {
        let file = xz(&input, &["-6", &format!("--check={check}")]);
        assert_round_trip(Container::Xz, check, &file, &input);
    }
    assert_round_trip(Container::Xz, "empty", &xz(b"", &["-6"]), b"");
    assert_round_trip(Container::Xz, "one byte", &xz(b"x", &["-1"]), b"x");
    // `cat a.xz b.xz`, stream padding between, a few bytes `xz -d` would reject after.
    let mut file = xz(&input[..100_000], &["-9"]);
    file.extend_from_slice(&[0; 8]);
    file.extend(xz(&input[100_000..], &["-2e"]));
    file.extend_from_slice(&[0; 4]);
    assert_round_trip(Container::Xz, "concatenated", &file, &input);
}

#[test]
fn pythons_lzma_module_is_reproduced() {
    let input = mixed(500_000, 8);
    let script = "import lzma, sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), preset=7, check=lzma.CHECK_CRC32))";
    let file = run("python3", &["-c", script], &input);
    assert_round_trip(Container::Xz, "python lzma", &file, &input);
}

#[test]
fn a_multi_block_file_is_never_rebuilt_wrong() {
    let input = mixed(1_500_000, 10);
    let file = run("xz", &["-c", "-T2", "--block-size=400000", "-6"], &input);
    assert_eq!(kind(&file), Some(Container::Xz));
    if let Some(unpacked) = unpack(&file, &Limits::default()).expect("recipe reads back") {
        assert_eq!(
            repack(&unpacked.payload, &unpacked.recipe).expect("repack"),
            file
        );
    }
    assert_eq!(payload(&file, &Limits::default()), Some(input));
}

#[test]
fn damaged_truncated_and_oversized_files_are_refused() {
    let input = mixed(400_000, 12);
    let file = xz(&input, &["-6"]);
    let limits = Limits::default();
    assert_eq!(
        unpack(&file[..file.len() - 3], &limits).ok().flatten(),
        None
    );
    assert_eq!(payload(&file[..file.len() - 3], &limits), None);
    let mut bad = file.clone();
    bad[file.len() / 2] ^= 0x04;
    assert_eq!(unpack(&bad, &limits).ok().flatten(), None);
    assert_eq!(payload(&bad, &limits), None);
    let small = Limits::default().max_payload(input.len() - 1);
    assert_eq!(unpack(&file, &small).ok().flatten(), None);
    assert_eq!(payload(&file, &small), None);
}

#[test]
fn recipes_that_mix_containers_and_encoders_or_bad_settings_are_refused() {
    let empty = xz(b"", &["-6"]);
    let len = u8::try_from(empty.len()).expect("small");
    assert_eq!(
        repack(b"", &recipe(4, [7, 6, 0, 4, 0], len)).expect("valid"),
        empty
    );
    for bad in [
        recipe(1, [7, 6, 0, 4, 0], len),
        recipe(4, [6, 9, 0, 0, 0], len),
    ] {
        match repack(b"", &bad) {
            Err(Error::Malformed { reason, .. }) => assert!(reason.contains("container")),
            other => panic!("mixed recipe: {other:?}"),
        }
    }
    // Preset 10, extreme 2, check 3 (reserved), a stray byte.
    for encoder in [
        [7, 10, 0, 4, 0],
        [7, 6, 2, 4, 0],
        [7, 6, 0, 3, 0],
        [7, 6, 0, 4, 1],
    ] {
        assert!(matches!(
            repack(b"", &recipe(4, encoder, len)),
            Err(Error::Encoder { .. })
        ));
    }
}

#[test]
fn presets_over_the_encoder_memory_bound_are_not_identified() {
    let input = mixed(200_000, 14);
    let six = xz(&input, &["-6"]);
    let one = xz(&input, &["-1"]);
    let small = Limits::default().max_encoder_memory(48 << 20);
    assert_eq!(unpack(&six, &small).expect("recipe reads back"), None);
    assert_round_trip(Container::Xz, "-1 within the bound", &one, &input);
    assert!(unpack(&one, &small).expect("recipe reads back").is_some());
    // The payload of a reference does not need the encoder.
    assert_eq!(payload(&six, &small), Some(input));
}
