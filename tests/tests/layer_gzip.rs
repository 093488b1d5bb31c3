//! Deltas inside gzip, zip and bzip2 through the layer, with the real `aws-sdk-s3` client
//! over s3s-fs: consecutive `.tgz`, `.whl` and `.tar.bz2` (`bzip2`, `pbzip2`) releases are
//! stored as payload deltas plus recipes and read back byte for byte (whole, ranged,
//! copied, with a cold cache); damage is an error, never
//! wrong bytes; gzip the engine cannot reproduce, and the feature switched off, fall back
//! to the plain rules.

use std::io::Write;

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::{DeltaConfig, DeltaLayer};
use deltaglider_codec::Sha256;
use deltaglider_tests::s3::{client, layered};
use deltaglider_tests::scenario::{get, get_range, noise, put, releases_with, stored};
use flate2::{Compression, GzBuilder};
use tower::Layer;

/// Text-like bytes (words from a small vocabulary), as source trees are: what gzip is used
/// for, and what the recompression engine reproduces.
fn source_tree(seed: u64, len: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "fn",
        "let",
        "mut",
        "return",
        "struct",
        "impl",
        "pub",
        "use",
        "crate",
        "self",
        "match",
        "Some",
        "None",
        "Ok",
        "Err",
        "value",
        "bytes",
        "reference",
        "delta",
        "{",
        "}",
        "(",
        ")",
        ";",
        "\n",
        "    ",
        "=",
        "->",
        "&",
        "if",
        "else",
        "for",
        "in",
    ];
    let picks = noise(seed, len);
    let mut out = Vec::with_capacity(len + 16);
    let mut i = 0;
    while out.len() < len {
        let w = WORDS[usize::from(picks[i % picks.len()]) % WORDS.len()];
        out.extend_from_slice(w.as_bytes());
        out.push(b' ');
        i += 1;
    }
    out.truncate(len);
    out
}

/// A new release: a few edits spread through the tree, and a file appended.
fn next_release(tree: &[u8], seed: u64) -> Vec<u8> {
    let mut out = tree.to_vec();
    for (n, at) in (7_000..out.len()).step_by(170_000).enumerate() {
        let patch = source_tree(seed * 100 + n as u64, 40);
        out[at..at + 40].copy_from_slice(&patch);
    }
    out.extend_from_slice(&source_tree(seed + 9_999, 5_000));
    out
}

fn tgz(payload: &[u8], mtime: u32) -> Vec<u8> {
    let mut gz = GzBuilder::new()
        .filename("release.tar")
        .mtime(mtime)
        .write(Vec::new(), Compression::best());
    gz.write_all(payload).expect("write to memory");
    gz.finish().expect("finish in memory")
}

/// Three releases of a 1.5 MB tree, as `.tgz`.
fn releases_tgz() -> Vec<Vec<u8>> {
    let mut tree = source_tree(1, 1_500_000);
    let mut out = Vec::new();
    for v in 0..3u32 {
        out.push(tgz(&tree, 1_700_000_000 + v));
        tree = next_release(&tree, u64::from(v) + 2);
    }
    out
}

#[tokio::test]
async fn tgz_releases_are_stored_as_payload_deltas_and_read_back_exactly() {
    let (root, s3, _) = releases_with("gzip-layer", DeltaConfig::default()).await;
    let versions = releases_tgz();
    for (i, v) in versions.iter().enumerate() {
        put(&s3, &format!("app/v{i}.tgz"), v).await;
    }
    assert_eq!(
        stored(&root, "app/reference.bin"),
        Some(versions[0].len() as u64),
        "the reference is the first archive as uploaded (compressed)"
    );
    for (i, v) in versions.iter().enumerate().skip(1) {
        let delta = stored(&root, &format!("app/v{i}.tgz.delta")).expect("stored as a delta");
        assert!(
            delta * 10 < v.len() as u64,
            "v{i}: {delta} bytes stored for a {}-byte archive",
            v.len()
        );
    }
    // Byte-exact, through this layer and a fresh one (cold cache).
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let cold = client(fresh);
    for (i, v) in versions.iter().enumerate() {
        let key = format!("app/v{i}.tgz");
        assert!(
            Sha256::digest(&get(&s3, &key).await) == Sha256::digest(v),
            "{key}"
        );
        assert!(
            Sha256::digest(&get(&cold, &key).await) == Sha256::digest(v),
            "{key} cold"
        );
    }
    // HEAD, a range, a copy.
    let head = s3
        .head_object()
        .bucket("releases")
        .key("app/v2.tgz")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.content_length(), Some(versions[2].len() as i64));
    assert_eq!(
        head.e_tag(),
        Some(format!("\"{}\"", deltaglider_codec::Md5::digest(&versions[2])).as_str())
    );
    let part = get_range(&s3, "app/v2.tgz", "bytes=1000-70999").await;
    assert_eq!(part, versions[2][1000..71_000]);
    s3.copy_object()
        .bucket("releases")
        .key("app/copy.tgz")
        .copy_source("releases/app/v2.tgz")
        .send()
        .await
        .expect("copy");
    assert!(Sha256::digest(&get(&s3, "app/copy.tgz").await) == Sha256::digest(&versions[2]));
}

/// Releases that differ only near the end of the tree: the compressed bytes share most
/// of their length (up to the edit), so a delta of the bytes looks possible and might be
/// taken for a chained reference — but it costs a large share of the archive, while the
/// payload delta costs a few hundred bytes. The payload delta must win, and no reference
/// be made of a later release. (Which release a `tar | gzip` edits late depends on the
/// directory order, so real uploads meet this case by chance.)
#[tokio::test]
async fn a_late_edit_is_stored_as_a_payload_delta_not_as_a_new_reference() {
    let (root, s3, _) = releases_with("gzip-late-edit", DeltaConfig::default()).await;
    let mut tree = source_tree(3, 1_000_000);
    let mut versions = Vec::new();
    for v in 0..4u64 {
        let at = tree.len() - 150_000;
        tree[at..at + 60].copy_from_slice(&source_tree(v + 40, 60));
        versions.push(tgz(&tree, 1_700_000_000));
    }
    for (i, v) in versions.iter().enumerate() {
        put(&s3, &format!("late/v{i}.tgz"), v).await;
    }
    for (i, v) in versions.iter().enumerate().skip(1) {
        let delta = stored(&root, &format!("late/v{i}.tgz.delta")).expect("stored as a delta");
        assert!(
            delta * 100 < v.len() as u64,
            "v{i}: {delta} bytes stored for a {}-byte archive",
            v.len()
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(root.join("releases").join("late"))
        .expect("the deltaspace's directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("reference"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["reference.bin"],
        "only the first release is a reference"
    );
    for (i, v) in versions.iter().enumerate() {
        let key = format!("late/v{i}.tgz");
        assert!(
            Sha256::digest(&get(&s3, &key).await) == Sha256::digest(v),
            "{key}"
        );
    }
}

#[tokio::test]
async fn a_damaged_recipe_or_payload_delta_is_an_error_not_bytes() {
    let (root, s3, _) = releases_with("gzip-damage", DeltaConfig::default()).await;
    let versions = releases_tgz();
    put(&s3, "app/v0.tgz", &versions[0]).await;
    put(&s3, "app/v1.tgz", &versions[1]).await;
    let path = root.join("releases/app/v1.tgz.delta");
    let good = std::fs::read(&path).expect("stored delta");
    // Offset 8: inside the recipe (a gzip header); the end: inside the payload delta.
    for at in [8, good.len() - 3] {
        let mut bad = good.clone();
        bad[at] ^= 0x55;
        std::fs::write(&path, &bad).expect("damage");
        let (fresh, _) = layered(&root, DeltaConfig::default());
        let got = client(fresh)
            .get_object()
            .bucket("releases")
            .key("app/v1.tgz")
            .send()
            .await;
        match got {
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                assert_eq!(status, Some(500), "damage at {at}: {e:?}");
            }
            Ok(out) => {
                let body = out.body.collect().await.map(|b| b.to_vec());
                assert!(
                    body.is_err(),
                    "damage at {at}: a body was delivered complete"
                );
            }
        }
    }
    std::fs::write(&path, &good).expect("repair");
    assert!(Sha256::digest(&get(&s3, "app/v1.tgz").await) == Sha256::digest(&versions[1]));
}

#[tokio::test]
async fn switched_off_or_unreproducible_gzip_follows_the_plain_rules() {
    // Off: the compressed bytes are encoded as they are, and share much less.
    let versions = releases_tgz();
    let mut sizes = Vec::new();
    for (name, config) in [
        ("gzip-on", DeltaConfig::default()),
        ("gzip-off", DeltaConfig::default().gzip_payloads(false)),
    ] {
        let (root, s3, _) = releases_with(name, config).await;
        put(&s3, "app/v0.tgz", &versions[0]).await;
        put(&s3, "app/v1.tgz", &versions[1]).await;
        // Everything stored: off, v1 resembles no reference and becomes one itself.
        let total: u64 = std::fs::read_dir(root.join("releases/app"))
            .expect("deltaspace directory")
            .map(|e| e.expect("entry").metadata().expect("metadata").len())
            .sum();
        sizes.push(total - versions[0].len() as u64);
        assert!(Sha256::digest(&get(&s3, "app/v1.tgz").await) == Sha256::digest(&versions[1]));
    }
    assert!(
        sizes[0] * 5 < sizes[1],
        "bytes stored for v1 with and without payload deltas: {sizes:?}"
    );

    // Runs of zeros (miniz's degenerate trees, which preflate does not parse): rebuilt by
    // the identified encoder; and gzip that cannot be split (a truncated member): stored by
    // the plain rules. Both read back exactly.
    let (_, s3, _) = releases_with("gzip-unreproducible", DeltaConfig::default()).await;
    let zeros = tgz(&vec![0u8; 3 << 20], 1);
    let mut more = vec![0u8; 3 << 20];
    more[1 << 20] = 1;
    let zeros2 = tgz(&more, 2);
    s3.put_object()
        .bucket("releases")
        .key("z/a.gz")
        .body(ByteStream::from(zeros.clone()))
        .send()
        .await
        .expect("PUT");
    put(&s3, "z/b.gz", &zeros2).await;
    assert!(get(&s3, "z/a.gz").await == zeros);
    assert!(get(&s3, "z/b.gz").await == zeros2);
    let cut = &versions[1][..versions[1].len() - 100];
    let cut2 = &versions[2][..versions[2].len() - 100];
    put(&s3, "t/a.gz", cut).await;
    put(&s3, "t/b.gz", cut2).await;
    assert!(get(&s3, "t/a.gz").await == cut);
    assert!(get(&s3, "t/b.gz").await == cut2);
}

#[tokio::test]
async fn a_layer_without_payload_deltas_still_reads_them() {
    // Stored by a layer with payload deltas; read by one configured without (the setting
    // governs writing only).
    let (root, s3, _) = releases_with("gzip-read-off", DeltaConfig::default()).await;
    let versions = releases_tgz();
    put(&s3, "app/v0.tgz", &versions[0]).await;
    put(&s3, "app/v1.tgz", &versions[1]).await;
    assert!(stored(&root, "app/v1.tgz.delta").is_some());
    let off = client(
        DeltaLayer::new(DeltaConfig::default().gzip_payloads(false))
            .layer(deltaglider_tests::s3::fs_backend(&root)),
    );
    assert!(Sha256::digest(&get(&off, "app/v1.tgz").await) == Sha256::digest(&versions[1]));
}

#[tokio::test]
async fn rebuilt_archives_are_cached_by_content_never_served_stale() {
    let (root, s3, _) = releases_with("gzip-rebuilt-cache", DeltaConfig::default()).await;
    let versions = releases_tgz();
    put(&s3, "app/v0.tgz", &versions[0]).await;
    put(&s3, "app/latest.tgz", &versions[1]).await;
    assert!(get(&s3, "app/latest.tgz").await == versions[1]);

    // Served from memory now: damage to the stored delta goes unnoticed by this layer (it
    // answers the verified bytes the metadata names) and is caught by a fresh one.
    let path = root.join("releases/app/latest.tgz.delta");
    let good = std::fs::read(&path).expect("stored delta");
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    std::fs::write(&path, &bad).expect("damage");
    assert!(get(&s3, "app/latest.tgz").await == versions[1]);
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let refused = client(fresh)
        .get_object()
        .bucket("releases")
        .key("app/latest.tgz")
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a cold layer rebuilds and refuses the damage"
    );
    std::fs::write(&path, &good).expect("repair");

    // Overwritten with another release: the cached archive is not the object any more.
    put(&s3, "app/latest.tgz", &versions[2]).await;
    assert!(get(&s3, "app/latest.tgz").await == versions[2]);
    // A range of the cached archive.
    let part = get_range(&s3, "app/latest.tgz", "bytes=10-99").await;
    assert_eq!(part, versions[2][10..100]);
}

/// A wheel-like zip of `tree` cut into 60 members, written by Python's `zipfile` (zlib,
/// deflate level 6), as `pip wheel` writes them.
fn python_zip(tree: &[u8]) -> Vec<u8> {
    let dir = deltaglider_tests::scratch_dir(&format!("zip-{}", Sha256::digest(tree).to_hex()));
    let input = dir.join("tree.bin");
    std::fs::write(&input, tree).expect("write tree");
    let out = dir.join("release.whl");
    let script = "import sys, zipfile\n\
        data = open(sys.argv[1], 'rb').read()\n\
        step = len(data) // 60 + 1\n\
        with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:\n\
        \x20   for i in range(0, len(data), step):\n\
        \x20       z.writestr(f'pkg/module_{i // step:03}.py', data[i:i + step])\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&input)
        .arg(&out)
        .status()
        .expect("python3 runs (.ci/run installs it)");
    assert!(status.success(), "python3 zipfile failed");
    std::fs::read(&out).expect("read zip")
}

#[tokio::test]
async fn zip_releases_are_stored_as_payload_deltas_and_read_back_exactly() {
    let (root, s3, _) = releases_with("zip-layer", DeltaConfig::default()).await;
    let mut tree = source_tree(7, 1_200_000);
    let mut versions = Vec::new();
    for v in 0..3u64 {
        versions.push(python_zip(&tree));
        tree = next_release(&tree, v + 20);
    }
    for (i, v) in versions.iter().enumerate() {
        put(&s3, &format!("whl/v{i}.whl"), v).await;
    }
    for (i, v) in versions.iter().enumerate().skip(1) {
        let delta = stored(&root, &format!("whl/v{i}.whl.delta")).expect("stored as a delta");
        assert!(
            delta * 10 < v.len() as u64,
            "v{i}: {delta} bytes stored for a {}-byte archive",
            v.len()
        );
    }
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let cold = client(fresh);
    for (i, v) in versions.iter().enumerate() {
        let key = format!("whl/v{i}.whl");
        assert!(get(&s3, &key).await == *v, "{key} warm");
        assert!(get(&cold, &key).await == *v, "{key} cold");
    }
    let part = get_range(&s3, "whl/v2.whl", "bytes=1000-70999").await;
    assert!(part == versions[2][1000..71_000]);
}

/// `payload` compressed by the real `command` (`bzip2 -9`, `pbzip2 -9`), reading stdin.
fn compressed_by(command: &[&str], payload: &[u8]) -> Vec<u8> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the compressor runs (.ci/run installs it)");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = payload.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("compressor output");
    writer.join().expect("writer").expect("input written");
    assert!(out.status.success(), "{command:?} failed");
    out.stdout
}

#[tokio::test]
async fn bzip2_and_xz_releases_are_stored_as_payload_deltas_and_read_back_exactly() {
    let (root, s3, _) = releases_with("bzip2-xz-layer", DeltaConfig::default()).await;
    let families = [
        (
            "tar.bz2",
            [
                ["bzip2", "-9", "-c"],
                ["bzip2", "-9", "-c"],
                ["pbzip2", "-9", "-c"],
            ],
        ),
        (
            "tar.xz",
            [
                ["xz", "-6", "-c"],
                ["xz", "-9e", "-c"],
                ["python3", "-c", LZMA],
            ],
        ),
    ];
    for (suffix, commands) in families {
        let mut tree = source_tree(9, 2_000_000);
        let mut versions = Vec::new();
        for (v, command) in commands.iter().enumerate() {
            versions.push(compressed_by(command, &tree));
            tree = next_release(&tree, v as u64 + 40);
        }
        for (i, v) in versions.iter().enumerate() {
            put(&s3, &format!("dump/v{i}.{suffix}"), v).await;
        }
        for (i, v) in versions.iter().enumerate().skip(1) {
            let key = format!("dump/v{i}.{suffix}.delta");
            let delta = stored(&root, &key).expect("stored as a delta");
            assert!(
                delta * 10 < v.len() as u64,
                "{key}: {delta} bytes stored for a {}-byte archive",
                v.len()
            );
        }
        let (fresh, _) = layered(&root, DeltaConfig::default());
        let cold = client(fresh);
        for (i, v) in versions.iter().enumerate() {
            let key = format!("dump/v{i}.{suffix}");
            assert!(get(&s3, &key).await == *v, "{key} warm");
            assert!(get(&cold, &key).await == *v, "{key} cold");
        }
        let key = format!("dump/v1.{suffix}");
        let part = get_range(&cold, &key, "bytes=5000-90999").await;
        assert!(part == versions[1][5000..91_000], "{key} range");
    }
}

/// Python's `lzma` at its defaults (preset 6, CRC-64), stdin to stdout.
const LZMA: &str =
    "import lzma, sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read()))";
