//! `container::unpack` over real release archives from the corpus (`/work/corpus`, built by
//! `shared/corpus/build_corpus.sh`; override with `DELTAGLIDER_CORPUS`). Ignored by
//! default because CI machines may not have the corpus; run with
//! `cargo test --release -p deltaglider-codec --test gzip_corpus -- --ignored`.
#![cfg(feature = "gzip")]

use std::io::Write;
use std::path::PathBuf;

use deltaglider_codec::container::{Limits, repack, unpack};

fn corpus(family: &str) -> Vec<PathBuf> {
    let root = std::env::var_os("DELTAGLIDER_CORPUS").map_or("/work/corpus".into(), PathBuf::from);
    let dir = root.join(family);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus family {} is missing: {e}", dir.display()))
        .map(|e| e.expect("read corpus dir").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().ends_with(".tsv"))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "corpus family {} is empty",
        dir.display()
    );
    files
}

/// npm tarballs come from Node.js's zlib (Chromium's fork), whose hash preflate-rs 0.7.6
/// does not model; the vendored, patched copy does (`vendor/README.md`): every one must be
/// accepted and rebuild exactly.
#[test]
#[ignore = "needs the corpus at /work/corpus (DELTAGLIDER_CORPUS)"]
fn npm_tarballs_are_exact_or_refused() {
    let mut accepted = 0;
    for path in corpus("npm-tgz") {
        let gz = std::fs::read(&path).expect("read corpus file");
        let unpacked = unpack(&gz, &Limits::default()).expect("unpack does not fail");
        if let Some(u) = unpacked {
            assert_eq!(
                repack(&u.payload, &u.recipe).expect("repack"),
                gz,
                "{}",
                path.display()
            );
            accepted += 1;
        }
    }
    eprintln!("npm-tgz: {accepted} accepted");
    assert_eq!(
        accepted,
        corpus("npm-tgz").len(),
        "every npm tarball is reproducible"
    );
}

/// Real tar files (tens of MB, several 8 MiB chunks' worth) gzipped by flate2.
#[test]
#[ignore = "needs the corpus at /work/corpus (DELTAGLIDER_CORPUS)"]
fn corpus_tars_gzipped_by_flate2_round_trip() {
    for path in corpus("tar").into_iter().take(2) {
        let tar = std::fs::read(&path).expect("read corpus file");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&tar).expect("write to memory");
        let gz = enc.finish().expect("finish in memory");
        let u = unpack(&gz, &Limits::default())
            .expect("unpack does not fail")
            .unwrap_or_else(|| panic!("{} refused", path.display()));
        assert_eq!(u.payload, tar);
        assert_eq!(repack(&u.payload, &u.recipe).expect("repack"), gz);
        eprintln!(
            "{}: recipe {} B for {} B of gzip",
            path.display(),
            u.recipe.len(),
            gz.len()
        );
    }
}
