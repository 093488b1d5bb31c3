//! Re-baselining through the layer with the real `aws-sdk-s3` client over s3s-fs: a family
//! that drifts steadily renews its reference when the cost model says so (`n·r ≥ 2`),
//! stores fewer bytes than deltas against the first version would, and reads back exactly.

use deltaglider::{DeltaConfig, References};
use deltaglider_codec::Sha256;
use deltaglider_tests::s3::{client, layered};
use deltaglider_tests::scenario::{get, noise, put};

/// Version `i` of a 1 MiB artifact: version `i - 1` with 2 % of it rewritten (a different
/// region each time), so deltas against a fixed reference grow by ~2 % per version.
fn drifting(versions: usize) -> Vec<Vec<u8>> {
    let mut current = noise(1, 1 << 20);
    let step = current.len() / 50;
    let mut out = Vec::new();
    for i in 0..versions {
        let at = (i * 7 % 50) * step;
        current[at..at + step].copy_from_slice(&noise(100 + i as u64, step));
        out.push(current.clone());
    }
    out
}

/// Stores the family under `app/` with `references`; returns the bytes stored for versions
/// 2..N and the reference names.
async fn store(name: &str, references: References, versions: &[Vec<u8>]) -> (u64, Vec<String>) {
    let root = deltaglider_tests::scratch_dir(name);
    let (service, _) = layered(&root, DeltaConfig::default().references(references));
    let s3 = client(service);
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("create bucket");
    for (i, v) in versions.iter().enumerate() {
        put(&s3, &format!("app/v{i:02}.bin"), v).await;
    }
    for (i, v) in versions.iter().enumerate() {
        let back = get(&s3, &format!("app/v{i:02}.bin")).await;
        assert!(Sha256::digest(&back) == Sha256::digest(v), "v{i:02}");
    }
    let mut total = 0;
    let mut references = Vec::new();
    for entry in std::fs::read_dir(root.join("releases/app")).expect("deltaspace") {
        let entry = entry.expect("entry");
        total += entry.metadata().expect("metadata").len();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("reference") {
            references.push(name);
        }
    }
    references.sort();
    (total - versions[0].len() as u64, references)
}

#[tokio::test]
async fn a_drifting_family_renews_its_reference_and_stores_less() {
    let versions = drifting(24);
    let (first, first_refs) = store("rebaseline-first", References::First, &versions).await;
    let (best, best_refs) = store("rebaseline-best", References::Best(3), &versions).await;
    assert_eq!(first_refs, ["reference.bin"]);
    // Deltas reach 2 % × n: n·r ≥ 2 at n = 10, so a renewal about every ten versions.
    assert!(
        (2..=4).contains(&best_refs.len()),
        "references after 24 versions: {best_refs:?}"
    );
    assert!(
        best < first,
        "versions 2..N: {best} bytes with renewals, {first} against the first version"
    );
}
