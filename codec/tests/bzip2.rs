//! bzip2 containers written by the real tools: the `bzip2` command at every block size,
//! `pbzip2` (one stream per chunk), concatenated files, Python's `bz2` module, and `lbzip2`
//! (its own encoder: stored whole or with a fix-up, never rebuilt wrong). A machine without
//! these commands fails the tests: they are the proof (`scripts/test-all` installs them).

#![cfg(feature = "gzip")]

#[path = "support/tools.rs"]
mod tools;

use tools::{assert_round_trip, inputs, mixed, recipe, run};

use deltaglider_codec::container::{
    Container, Error, Limits, describe, kind, payload, repack, unpack,
};

fn bzip2(input: &[u8], level: u8) -> Vec<u8> {
    run("bzip2", &[&format!("-{level}"), "-c"], input)
}

#[test]
fn the_bzip2_command_is_reproduced_at_every_block_size() {
    let inputs = [
        ("empty", Vec::new()),
        ("one", vec![b'x']),
        ("zeros", vec![0; 300_000]),
        ("periodic", b"ab".repeat(150_000)),
        ("random", inputs::random(150_000, 3)),
        ("mixed", mixed(1_300_000, 4)),
    ];
    for (name, input) in &inputs {
        for level in 1..=9 {
            let file = bzip2(input, level);
            let recipe =
                assert_round_trip(Container::Bzip2, &format!("{name} -{level}"), &file, input);
            // Container, one stream, its lengths and encoder: no fix-up.
            assert!(
                recipe.len() < 32,
                "{name} -{level}: recipe of {} B",
                recipe.len()
            );
            let d = describe(&recipe).expect("describe");
            assert_eq!(d.streams.len(), 1);
            assert_eq!(
                d.streams[0].method,
                format!("bzip2 -{level} (libbzip2 1.0.8)")
            );
        }
    }
}

#[test]
fn pbzip2_streams_and_concatenated_files_rebuild_each_stream() {
    let input = mixed(2_500_000, 7);
    // pbzip2 compresses 900 kB chunks as separate streams (on every core).
    let file = run("pbzip2", &["-9", "-c", "-p2"], &input);
    let recipe = assert_round_trip(Container::Bzip2, "pbzip2", &file, &input);
    let streams = describe(&recipe).expect("describe").streams;
    assert_eq!(streams.len(), input.len().div_ceil(900_000));
    // `cat a.bz2 b.bz2 > c.bz2`, then a few bytes bunzip2 ignores.
    let mut file = bzip2(&input[..1_000_000], 9);
    file.extend(bzip2(&input[1_000_000..], 3));
    file.extend_from_slice(b"trailing bytes");
    assert_round_trip(Container::Bzip2, "concatenated", &file, &input);
}

#[test]
fn pythons_bz2_module_is_reproduced() {
    let input = mixed(400_000, 9);
    let script =
        "import bz2, sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read(), 5))";
    let file = run("python3", &["-c", script], &input);
    assert_round_trip(Container::Bzip2, "python bz2", &file, &input);
}

#[test]
fn another_encoder_is_never_rebuilt_wrong() {
    // lbzip2 has its own block cutting and coding: no recipe, or one with a fix-up, and
    // always the exact bytes.
    let input = mixed(2_000_000, 11);
    let file = run("lbzip2", &["-9", "-c", "-n", "2"], &input);
    assert_eq!(kind(&file), Some(Container::Bzip2));
    if let Some(unpacked) = unpack(&file, &Limits::default()).expect("recipe reads back") {
        assert_eq!(unpacked.payload, input);
        assert_eq!(
            repack(&unpacked.payload, &unpacked.recipe).expect("repack"),
            file
        );
    }
    assert_eq!(payload(&file, &Limits::default()), Some(input));
}

#[test]
fn damaged_truncated_and_oversized_files_are_refused() {
    let input = mixed(600_000, 13);
    let file = bzip2(&input, 9);
    let limits = Limits::default();
    assert_eq!(
        unpack(&file[..file.len() - 3], &limits).ok().flatten(),
        None
    );
    assert_eq!(payload(&file[..file.len() - 3], &limits), None);
    let mut bad = file.clone();
    bad[file.len() / 2] ^= 0x04;
    assert_eq!(unpack(&bad, &limits).ok().flatten(), None);
    let small = Limits::default().max_payload(input.len() - 1);
    assert_eq!(unpack(&file, &small).ok().flatten(), None);
    assert_eq!(payload(&file, &small), None);
    // A damaged second stream ends the payload where bunzip2 stops.
    let mut two = file.clone();
    let mut second = bzip2(b"second stream", 1);
    let at = second.len() - 5;
    second[at] ^= 0xff;
    two.extend(second);
    assert_eq!(payload(&two, &limits), Some(input));
}

#[test]
fn recipes_that_mix_containers_and_encoders_are_refused() {
    let empty = bzip2(b"", 9);
    assert_eq!(empty.len(), 14);
    // The well-formed recipe for it rebuilds it.
    assert_eq!(
        repack(b"", &recipe(3, [6, 9, 0, 0, 0], 14)).expect("valid"),
        empty
    );
    // A bzip2 stream in a gzip container, a deflate encoder in a bzip2 container.
    for bad in [
        recipe(1, [6, 9, 0, 0, 0], 14),
        recipe(3, [3, 6, 15, 8, 0], 14),
    ] {
        match repack(b"", &bad) {
            Err(Error::Malformed { reason, .. }) => assert!(reason.contains("container")),
            other => panic!("mixed recipe: {other:?}"),
        }
    }
    // Block sizes outside 1–9, stray parameter bytes.
    for encoder in [[6, 0, 0, 0, 0], [6, 10, 0, 0, 0], [6, 9, 1, 0, 0]] {
        assert!(matches!(
            repack(b"", &recipe(3, encoder, 14)),
            Err(Error::Encoder { .. })
        ));
    }
}
