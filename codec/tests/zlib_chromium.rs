//! `deflate::zlib` with `Flavor::Chromium` against Node.js's zlib (Chromium's fork):
//! hashes of Node's output for the shared test inputs (`fixtures/deflate/chromium.txt`,
//! written by `generate-chromium.js`), and a tarball written by `npm pack`.

#[path = "support/inputs.rs"]
mod inputs;

use deltaglider_codec::deflate::zlib::{Flavor, Strategy, ZlibParams, agreement, compress};
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

fn strategy(n: &str) -> Strategy {
    match n {
        "0" => Strategy::Default,
        "1" => Strategy::Filtered,
        "2" => Strategy::HuffmanOnly,
        "3" => Strategy::Rle,
        "4" => Strategy::Fixed,
        other => panic!("unknown strategy {other}"),
    }
}

#[test]
fn node_output_is_reproduced() {
    let table = std::fs::read_to_string(format!("{FIXTURES}/chromium.txt")).expect("fixture");
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
            strategy: strategy(strat),
            flavor: Flavor::Chromium,
        };
        let mut out = Vec::new();
        compress(data, &p, &mut out);
        let got = hex::encode(Sha256::digest(&out));
        assert_eq!(
            (out.len().to_string(), &got[..16]),
            (len.to_string(), sha),
            "{name} {p:?}"
        );
        checked += 1;
    }
    assert!(checked > 700, "only {checked} cases in the fixture");
}

/// The raw deflate stream of a single-member gzip file and its payload.
fn split_gzip(gz: &[u8]) -> (Vec<u8>, &[u8]) {
    assert_eq!(gz[..4], [0x1f, 0x8b, 8, 0], "plain gzip header");
    let mut inflate = flate2::Decompress::new(false);
    let mut payload = Vec::with_capacity(gz.len() * 8);
    loop {
        let consumed = inflate.total_in() as usize;
        let status = inflate
            .decompress_vec(
                &gz[10 + consumed..],
                &mut payload,
                flate2::FlushDecompress::None,
            )
            .expect("valid deflate");
        if status == flate2::Status::StreamEnd {
            break;
        }
        payload.reserve(payload.capacity().max(1 << 16));
    }
    let used = inflate.total_in() as usize;
    (payload, &gz[10..10 + used])
}

#[test]
fn npm_pack_tarball_is_level_9_chromium() {
    let gz = std::fs::read(format!("{FIXTURES}/npm-pack.tgz")).expect("fixture");
    let (payload, stream) = split_gzip(&gz);
    let p = ZlibParams::new(9, Flavor::Chromium);
    let mut out = Vec::new();
    compress(&payload, &p, &mut out);
    assert!(
        out == stream,
        "npm pack output not reproduced ({} vs {} bytes)",
        out.len(),
        stream.len()
    );
    // madler zlib at the same level writes something else: the flavor is what matters.
    let a = agreement(&payload, &ZlibParams::new(9, Flavor::Zlib), stream);
    assert!(!a.exact, "{a:?}");
}

/// Real npm registry tarballs (typescript 5.4–5.9, 5–6 MB each) when the benchmark corpus
/// is on this machine: `cargo test --release -- --ignored npm_registry`.
#[test]
#[ignore = "needs /work/corpus/npm-tgz; slow in debug builds"]
fn npm_registry_tarballs_are_level_9_chromium() {
    let dir = std::path::Path::new("/work/corpus/npm-tgz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("corpus present") {
        let gz = std::fs::read(entry.expect("entry").path()).expect("readable");
        let (payload, stream) = split_gzip(&gz);
        let a = agreement(&payload, &ZlibParams::new(9, Flavor::Chromium), stream);
        assert!(a.exact, "{a:?}");
        n += 1;
    }
    assert!(n > 0);
}
