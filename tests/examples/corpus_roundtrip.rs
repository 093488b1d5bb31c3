//! Uploads every version of every corpus family through `DeltaLayer` (over `s3s-fs`, with
//! the real `aws-sdk-s3` client in-process), reads each back and compares SHA-256, and
//! reports stored / original bytes per family and reference policy — side by side with the
//! `xdelta3` command against the first version (the DeltaGlider tools' scheme) and `xdelta3`
//! and `zstd --patch-from` against the previous version, when those commands exist.
//!
//! `cargo run --release -p deltaglider-tests --example corpus_roundtrip -- DIR [POLICY…]`,
//! where `DIR` was built by `shared/corpus/build_corpus.sh` (files `NN_name` in version
//! order) and each POLICY is `first` or `best-N` (default: `first best-1 best-3`).
//!
//! `CORPUS_LIST=1` lists what the layer stored for each family and policy (on stderr);
//! `CORPUS_TIMES=1` prints each version's cold and direct GET seconds (on stderr).
//!
//! "v2..N" is what the issue tracker's table measures: bytes stored for versions 2 to N
//! (everything stored minus the first version's size) over their original bytes.
//! "cold GET": every version read once more, each through a fresh layer (nothing cached,
//! chains of references materialised from the backend); "direct GET": the same files
//! stored whole in another bucket of the same s3s-fs and read without the layer; "worst
//! cold / direct": the lowest ratio of one version's two rates.

use std::path::{Path, PathBuf};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::{DeltaConfig, References};
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

/// The key a corpus file is stored under.
fn key_of(family: &str, file: &Path) -> String {
    format!(
        "{family}/{}",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    )
}

/// GETs `corpus/<key>` whole, panicking on failure.
async fn get_bytes(s3: &aws_sdk_s3::Client, key: &str) -> bytes::Bytes {
    s3.get_object()
        .bucket("corpus")
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {key}: {e:?}"))
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
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

/// Bytes of `cmd` run on each `(reference, target)` pair, via a scratch output file.
fn external(cmd: &str, pairs: &[(&Path, &Path)], out: &Path) -> Option<u64> {
    let mut total = 0;
    for (reference, target) in pairs {
        let (r, t, o) = (reference.display(), target.display(), out.display());
        let line = match cmd {
            // -D: no automatic decompression of gzip inputs (it would not restore their bytes).
            "xdelta3" => format!("xdelta3 -D -f -e -3 -S none -s '{r}' '{t}' '{o}'"),
            _ => format!("zstd -q -f -T1 -3 --long=31 --patch-from='{r}' '{t}' -o '{o}'"),
        };
        let status = std::process::Command::new("sh")
            .args(["-c", &line])
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        total += std::fs::metadata(out).ok()?.len();
    }
    Some(total)
}

fn policy(name: &str) -> References {
    match name.strip_prefix("best-").and_then(|n| n.parse().ok()) {
        Some(n) => References::Best(n),
        None if name == "first" => References::First,
        None => panic!("policy {name:?}: give first or best-N"),
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some(corpus) = args.next().map(PathBuf::from) else {
        eprintln!("usage: corpus_roundtrip CORPUS_DIR [first|best-N]...");
        std::process::exit(2);
    };
    let mut policies: Vec<String> = args.collect();
    if policies.is_empty() {
        policies = vec!["first".into(), "best-1".into(), "best-3".into()];
    }
    println!(
        "| family | scheme | versions | original bytes | stored bytes | stored / original | v2..N | PUT MB/s | GET MB/s | re-GET MB/s | cold GET MB/s | direct GET MB/s | worst cold / direct |"
    );
    println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
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
        let sizes: Vec<u64> = files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .collect();
        let original: u64 = sizes.iter().sum();
        let later = (original - sizes[0]).max(1) as f64;
        for scheme in &policies {
            run_layer(&name, &files, scheme, original, sizes[0], later).await;
        }
        let scratch = scratch_dir(&format!("corpus-ext-{name}")).join("out");
        let first: Vec<(&Path, &Path)> = files[1..]
            .iter()
            .map(|t| (files[0].as_path(), t.as_path()))
            .collect();
        let previous: Vec<(&Path, &Path)> = files
            .windows(2)
            .map(|w| (w[0].as_path(), w[1].as_path()))
            .collect();
        for (label, cmd, pairs) in [
            ("xdelta3 -3 vs first (DeltaGlider tools)", "xdelta3", &first),
            ("xdelta3 -3 vs previous", "xdelta3", &previous),
            ("zstd -3 --patch-from vs previous", "zstd", &previous),
        ] {
            if let Some(deltas) = external(cmd, pairs, &scratch) {
                let stored = sizes[0] + deltas;
                println!(
                    "| {name} | {label} | {} | {original} | {stored} | {:.2} % | {:.2} % | | | | | | |",
                    files.len(),
                    100.0 * stored as f64 / original as f64,
                    100.0 * deltas as f64 / later,
                );
            }
        }
    }
}

/// Every version read through a fresh layer (nothing cached: chains of references are
/// materialised from the backend), and straight from the backend (each file stored whole in
/// another bucket of the same s3s-fs); the seconds of each, and the worst ratio of one
/// version's cold rate to its direct rate.
async fn cold_and_direct(
    root: &Path,
    name: &str,
    files: &[PathBuf],
    config: DeltaConfig,
) -> (f64, f64, f64) {
    let plain = client(deltaglider_tests::s3::plain(root.to_path_buf()));
    plain
        .create_bucket()
        .bucket("direct")
        .send()
        .await
        .expect("bucket");
    let (mut cold_secs, mut direct_secs, mut worst) = (0f64, 0f64, f64::MAX);
    for file in files {
        let key = key_of(name, file);
        let bytes = std::fs::read(file).expect("corpus file");
        plain
            .put_object()
            .bucket("direct")
            .key(&key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .expect("direct PUT");
        let started = Instant::now();
        let direct = plain
            .get_object()
            .bucket("direct")
            .key(&key)
            .send()
            .await
            .expect("direct GET")
            .body
            .collect()
            .await
            .expect("body");
        let direct_one = started.elapsed().as_secs_f64();
        let (fresh, _) = layered(root, config.clone());
        let started = Instant::now();
        let back = get_bytes(&client(fresh), &key).await;
        let cold_one = started.elapsed().as_secs_f64();
        assert!(back == direct.into_bytes(), "{key} read cold");
        if std::env::var_os("CORPUS_TIMES").is_some() {
            eprintln!("    {key}: cold {cold_one:.3} s, direct {direct_one:.3} s");
        }
        cold_secs += cold_one;
        direct_secs += direct_one;
        worst = worst.min(direct_one / cold_one);
    }
    (cold_secs, direct_secs, worst)
}

async fn run_layer(
    name: &str,
    files: &[PathBuf],
    scheme: &str,
    original: u64,
    first: u64,
    later: f64,
) {
    let root = scratch_dir(&format!("corpus-{name}-{scheme}"));
    // Every family's files are delta material, whatever their extension (.sql is).
    let config = DeltaConfig::default()
        .max_object_size(1 << 30)
        .references(policy(scheme));
    let (service, _) = layered(&root, config.clone());
    let s3 = client(service);
    s3.create_bucket()
        .bucket("corpus")
        .send()
        .await
        .expect("bucket");
    let (mut put_secs, mut get_secs) = (0f64, 0f64);
    for file in files {
        let bytes = std::fs::read(file).expect("corpus file");
        let key = key_of(name, file);
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
        let back = get_bytes(&s3, &key).await;
        get_secs += started.elapsed().as_secs_f64();
        assert!(
            Sha256::digest(&back) == Sha256::digest(&bytes),
            "{key} came back different"
        );
    }
    // Everything read again, with the caches as the run left them (a popular release
    // downloaded twice).
    let started = Instant::now();
    for file in files {
        let key = key_of(name, file);
        let back = get_bytes(&s3, &key).await;
        assert_eq!(
            back.len() as u64,
            std::fs::metadata(file).map_or(0, |m| m.len())
        );
    }
    let reget_secs = started.elapsed().as_secs_f64();
    let stored = stored_bytes(&root.join("corpus").join(name));
    let (cold_secs, direct_secs, worst) = cold_and_direct(&root, name, files, config).await;
    println!(
        "| {name} | layer, {scheme} | {} | {original} | {stored} | {:.2} % | {:.2} % | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {worst:.2} |",
        files.len(),
        100.0 * stored as f64 / original as f64,
        100.0 * stored.saturating_sub(first) as f64 / later,
        original as f64 / 1e6 / put_secs,
        original as f64 / 1e6 / get_secs,
        original as f64 / 1e6 / reget_secs,
        original as f64 / 1e6 / cold_secs,
        original as f64 / 1e6 / direct_secs,
    );
    if std::env::var_os("CORPUS_LIST").is_some() {
        // What the layer stored, for a look at the references it chose to keep.
        let mut listing: Vec<(String, u64)> = std::fs::read_dir(root.join("corpus").join(name))
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                        (e.file_name().to_string_lossy().into_owned(), size)
                    })
                    .filter(|(n, _)| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        listing.sort();
        for (name, size) in listing {
            eprintln!("    {scheme}: {name} {size}");
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}
