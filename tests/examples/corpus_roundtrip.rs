//! Uploads every version of every corpus family through `DeltaLayer` (over `s3s-fs`, with
//! the real `aws-sdk-s3` client in-process), reads each back and compares SHA-256, and
//! reports stored / original bytes per family.
//!
//! `cargo run --release -p deltaglider-tests --example corpus_roundtrip -- DIR`, where `DIR`
//! was built by `shared/corpus/build_corpus.sh` (files `NN_name` in version order).

use std::path::{Path, PathBuf};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::DeltaConfig;
use deltaglider_codec::Sha256;
use deltaglider_tests::s3::{client, layered};
use deltaglider_tests::scratch_dir;

fn versions(family: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(family)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.is_file()
            && p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.as_bytes().first().is_some_and(u8::is_ascii_digit))
    });
    files.sort();
    files
}

fn stored_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let Some(corpus) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: corpus_roundtrip CORPUS_DIR");
        std::process::exit(2);
    };
    println!(
        "| family | versions | original bytes | stored bytes | stored / original | PUT MB/s | GET MB/s |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|");
    let mut families: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    families.sort();
    for family in families {
        let name = family
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let files = versions(&family);
        if files.is_empty() {
            continue;
        }
        let root = scratch_dir(&format!("corpus-{name}"));
        // Every family's files are delta material, whatever their extension (.sql is).
        let (service, _) = layered(&root, DeltaConfig::default().max_object_size(1 << 30));
        let s3 = client(service);
        s3.create_bucket()
            .bucket("corpus")
            .send()
            .await
            .expect("bucket");
        let (mut original, mut put_secs, mut get_secs) = (0u64, 0f64, 0f64);
        for file in &files {
            let bytes = std::fs::read(file).expect("corpus file");
            let key = format!(
                "{name}/{}",
                file.file_name().and_then(|n| n.to_str()).unwrap_or("x")
            );
            let started = Instant::now();
            s3.put_object()
                .bucket("corpus")
                .key(&key)
                .body(ByteStream::from(bytes.clone()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("PUT {key}: {e:?}"));
            put_secs += started.elapsed().as_secs_f64();
            let started = Instant::now();
            let back = s3
                .get_object()
                .bucket("corpus")
                .key(&key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {key}: {e:?}"))
                .body
                .collect()
                .await
                .expect("body")
                .into_bytes();
            get_secs += started.elapsed().as_secs_f64();
            assert!(
                Sha256::digest(&back) == Sha256::digest(&bytes),
                "{key} came back different"
            );
            original += bytes.len() as u64;
        }
        let stored = stored_bytes(&root.join("corpus").join(&name));
        println!(
            "| {name} | {} | {original} | {stored} | {:.2} % | {:.1} | {:.1} |",
            files.len(),
            100.0 * stored as f64 / original as f64,
            original as f64 / 1e6 / put_secs,
            original as f64 / 1e6 / get_secs,
        );
    }
}
