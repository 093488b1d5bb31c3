//! `deflate::zlib` with `Flavor::Chromium` on tarballs written by npm (Node.js's zlib,
//! Chromium's fork).

#![cfg(feature = "gzip")]

use deltaglider_codec::deflate::zlib::{Flavor, ZlibParams, agreement, compress};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deflate");

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
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "tgz") {
            continue;
        }
        let gz = std::fs::read(path).expect("readable");
        let (payload, stream) = split_gzip(&gz);
        let a = agreement(&payload, &ZlibParams::new(9, Flavor::Chromium), stream);
        assert!(a.exact, "{a:?}");
        n += 1;
    }
    assert!(n > 0);
}
