//! `deflate::zlib` against hashes of other zlibs' output for the shared test inputs
//! (`tests/support/inputs.rs`), written by the generators beside the tables in
//! `fixtures/deflate/`: Node.js's zlib (Chromium's fork) and the zlib Python links
//! (madler 1.2.13 here). The live comparison with madler zlib is in `zlib_port.rs`.

#![cfg(feature = "gzip")]

#[path = "support/inputs.rs"]
mod inputs;

use deltaglider_codec::deflate::zlib::{Flavor, Strategy, ZlibParams, compress};
use sha2::{Digest, Sha256};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deflate");

/// The inputs `generate-chromium.js` names, generated the same way.
fn input(name: &str) -> Vec<u8> {
    match name {
        "empty" => Vec::new(),
        "one-byte" => b"x".to_vec(),
        "repetitive" => b"abcabcabd".repeat(2000),
        "zeros" => vec![0; 70_000],
        "random" => inputs::random(40_000, 1),
        "text" => inputs::text(90_000, 2),
        "large-text" => inputs::text(1_500_000, 3),
        other => panic!("unknown input {other}"),
    }
}

/// Checks every line of a fixture table against the port with `flavor`.
fn check_table(file: &str, flavor: Flavor) {
    let table = std::fs::read_to_string(format!("{FIXTURES}/{file}")).expect("fixture");
    let mut cache: Option<(String, Vec<u8>)> = None;
    let mut checked = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        let [name, level, mem, wbits, strat, len, sha] = f[..] else {
            panic!("bad line {line}")
        };
        if cache.as_ref().is_none_or(|(n, _)| n != name) {
            cache = Some((name.to_string(), input(name)));
        }
        let data = &cache.as_ref().expect("cached").1;
        let p = ZlibParams {
            level: level.parse().expect("level"),
            window_bits: wbits.parse().expect("window bits"),
            mem_level: mem.parse().expect("memory level"),
            strategy: Strategy::from_zlib_value(strat.parse().expect("strategy")).expect("0..=4"),
            flavor,
        };
        let mut out = Vec::new();
        compress(data, &p, &mut out);
        let got = hex::encode(Sha256::digest(&out));
        assert_eq!(
            (out.len().to_string(), &got[..16]),
            (len.to_string(), sha),
            "{file}: {name} {p:?}"
        );
        checked += 1;
    }
    assert!(checked > 700, "only {checked} cases in the fixture");
}

#[test]
fn node_output_is_reproduced() {
    check_table("chromium.txt", Flavor::Chromium);
}

#[test]
fn python_zlib_output_is_reproduced() {
    check_table("zlib.txt", Flavor::Zlib);
}
