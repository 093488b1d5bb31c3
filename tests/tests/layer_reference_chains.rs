//! References stored as deltas of older references (FORMAT.md section 14), through the
//! layer with the real `aws-sdk-s3` client over s3s-fs: a drifting family follows its
//! drift with chained references and stores far less than against its first version;
//! chains stay shallow (skip-deltas); a fresh instance (nothing cached) reads every version
//! back; deleting versions keeps exactly the bases the rest need; a damaged link is an
//! error, never wrong bytes.

use std::collections::HashMap;
use std::path::Path;

use deltaglider::{DeltaConfig, References};
use deltaglider_tests::s3::{client, layered, plain};
use deltaglider_tests::scenario::{delete, edit, get, noise, put, releases_with};

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

/// The files stored in deltaspace `app/`, with their sizes.
fn stored(root: &Path) -> HashMap<String, u64> {
    std::fs::read_dir(root.join("releases/app"))
        .expect("deltaspace")
        .map(|entry| {
            let entry = entry.expect("entry");
            let size = entry.metadata().expect("metadata").len();
            (entry.file_name().to_string_lossy().into_owned(), size)
        })
        .collect()
}

/// Each reference of `app/` and the base it is a delta of (`None`: stored whole), read
/// straight from the backend.
async fn bases(root: &Path) -> HashMap<String, Option<String>> {
    let raw = client(plain(root.to_path_buf()));
    let mut out = HashMap::new();
    for name in stored(root)
        .into_keys()
        .filter(|n| n.starts_with("reference"))
    {
        let head = raw
            .head_object()
            .bucket("releases")
            .key(format!("app/{name}"))
            .send()
            .await
            .expect("HEAD reference");
        let meta = head.metadata().cloned().unwrap_or_default();
        let base = meta
            .get("dg-ref-key")
            .map(|k| k.trim_start_matches("app/").to_owned());
        if base.is_some() {
            assert_eq!(
                meta.get("dg-format").map(String::as_str),
                Some("3"),
                "{name}"
            );
        }
        out.insert(name, base);
    }
    out
}

/// How many deltas lie between `name` and a whole reference.
fn depth(bases: &HashMap<String, Option<String>>, name: &str) -> usize {
    let mut depth = 0;
    let mut at = name;
    while let Some(Some(base)) = bases.get(at) {
        depth += 1;
        at = base;
        assert!(depth < 64, "a cycle through {name}");
    }
    depth
}

async fn store_all(name: &str, references: References, versions: &[Vec<u8>]) -> std::path::PathBuf {
    let (root, s3, _) = releases_with(name, DeltaConfig::default().references(references)).await;
    for (i, v) in versions.iter().enumerate() {
        put(&s3, &format!("app/v{i:02}.bin"), v).await;
    }
    root
}

#[tokio::test]
async fn a_drifting_family_follows_its_drift_with_shallow_chains() {
    let versions = drifting(24);
    let first_root = store_all("chains-first", References::First, &versions).await;
    let root = store_all("chains-best", References::Best(3), &versions).await;
    let total = |root: &Path| stored(root).values().sum::<u64>() - versions[0].len() as u64;
    let (first, chained) = (total(&first_root), total(&root));
    // Against the first version, deltas grow by ~2 % a version (≈ 6 MB in all); each
    // chained reference costs about one step.
    assert!(
        chained * 3 < first,
        "versions 2..N: {chained} bytes with chained references, {first} against the first"
    );
    let bases = bases(&root).await;
    let sizes = stored(&root);
    let chained_refs: Vec<&String> = bases.keys().filter(|k| bases[*k].is_some()).collect();
    assert!(chained_refs.len() >= 8, "{bases:?}");
    for name in &chained_refs {
        // A link spans a few versions (skip-deltas): never anything like a whole one.
        assert!(sizes[*name] < 400_000, "{name} is {} bytes", sizes[*name]);
    }
    let deepest = bases.keys().map(|k| depth(&bases, k)).max().unwrap_or(0);
    assert!(
        deepest <= 5,
        "chains of {deepest} over 24 versions: {bases:?}"
    );
    // A fresh instance, nothing cached, materialises every chain.
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let fresh = client(fresh);
    for (i, v) in versions.iter().enumerate() {
        assert!(
            get(&fresh, &format!("app/v{i:02}.bin")).await == *v,
            "v{i:02}"
        );
    }
}

#[tokio::test]
async fn deleting_versions_keeps_the_bases_the_rest_need() {
    let versions = drifting(12);
    let root = store_all("chains-delete", References::Best(3), &versions).await;
    let (layer, _) = layered(&root, DeltaConfig::default());
    let s3 = client(layer);
    let last = versions.len() - 1;
    for i in 0..last {
        delete(&s3, &format!("app/v{i:02}.bin")).await;
    }
    // What is left: the last version's delta, its reference and that one's chain.
    let bases = bases(&root).await;
    let kept = bases.len();
    assert!(kept >= 1, "{bases:?}");
    let deepest = bases.keys().map(|k| depth(&bases, k)).max().unwrap_or(0);
    assert_eq!(kept, deepest + 1, "only one chain is left: {bases:?}");
    let (fresh, _) = layered(&root, DeltaConfig::default());
    assert!(get(&client(fresh), &format!("app/v{last:02}.bin")).await == versions[last]);
    delete(&s3, &format!("app/v{last:02}.bin")).await;
    assert!(stored(&root).keys().all(|k| !k.starts_with("reference")));
}

#[tokio::test]
async fn a_damaged_link_is_an_error_never_wrong_bytes() {
    let versions = drifting(6);
    let root = store_all("chains-damage", References::Best(3), &versions).await;
    let bases = bases(&root).await;
    // A link some chain passes through: a reference that is another's base and a delta.
    let Some(link) = bases
        .values()
        .flatten()
        .find(|b| bases.get(*b).is_some_and(Option::is_some))
        .cloned()
    else {
        panic!("no chain of two links: {bases:?}");
    };
    let path = root.join("releases/app").join(&link);
    let mut body = std::fs::read(&path).expect("link");
    let at = body.len() / 2;
    body[at] ^= 0x5a;
    std::fs::write(&path, &body).expect("damage");
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let fresh = client(fresh);
    let mut refused = 0;
    for (i, v) in versions.iter().enumerate() {
        let key = format!("app/v{i:02}.bin");
        match fresh.get_object().bucket("releases").key(&key).send().await {
            Ok(out) => {
                let back = out.body.collect().await.map(|b| b.to_vec());
                // A body is only ever the version itself (or cut short).
                if let Ok(back) = back {
                    assert!(back == *v, "{key} read back other bytes");
                }
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                assert_eq!(status, Some(500), "{key}: {e:?}");
                refused += 1;
            }
        }
    }
    assert!(refused >= 1, "no version depended on the damaged {link}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uploads_of_a_new_family_converge_on_one_reference() {
    let (root, s3, _) = releases_with("chains-concurrent", DeltaConfig::default()).await;
    // reference.bin holds something else: the family resembles no reference yet.
    put(&s3, "app/unrelated.bin", &noise(9, 300_000)).await;
    let base = noise(1, 400_000);
    let family: Vec<Vec<u8>> = (0..6).map(|i| edit(&base, 10 + i)).collect();
    let uploads: Vec<_> = family
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (s3, v) = (s3.clone(), v.clone());
            tokio::spawn(async move { put(&s3, &format!("app/f{i}.bin"), &v).await })
        })
        .collect();
    for upload in uploads {
        upload.await.expect("upload");
    }
    // Sequentially: one whole reference for the family, deltas for the rest. Racing
    // uploads each found no base; they converge on the earliest reference made (two only
    // when two were made within one timestamp and neither listing saw the other).
    let bases = bases(&root).await;
    let whole: Vec<&String> = bases
        .iter()
        .filter(|(k, b)| b.is_none() && *k != "reference.bin")
        .map(|(k, _)| k)
        .collect();
    assert!(
        (1..=2).contains(&whole.len()),
        "whole references: {whole:?} of {bases:?}"
    );
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let fresh = client(fresh);
    for (i, v) in family.iter().enumerate() {
        assert!(get(&fresh, &format!("app/f{i}.bin")).await == *v, "f{i}");
    }
}

#[tokio::test]
async fn a_base_removed_while_a_link_is_made_onto_it_is_restored() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::{Layer, ServiceExt};

    let (root, s3, _) = releases_with("chains-gc-race", DeltaConfig::default()).await;
    put(&s3, "app/seed.bin", &noise(1, 300_000)).await;
    // Resembles nothing: a whole reference of its own, named only by this object's delta.
    let other = noise(3, 300_000);
    put(&s3, "app/other.bin", &other).await;
    let mut next = other.clone();
    next[100_000..102_000].copy_from_slice(&noise(77, 2_000));

    // The deleting instance's backend: just before it deletes that reference, another
    // instance stores the next version of `other` — a reference chained onto it, and a
    // delta naming the new one. Nothing but the chain names the old reference then.
    let backend = deltaglider_tests::s3::fs_backend(&root);
    let raced = Arc::new(AtomicBool::new(false));
    let racing_root = root.clone();
    let racing_next = next.clone();
    let intercept = tower::service_fn(
        move |request: http::Request<deltaglider::RequestBody<aws_smithy_types::body::SdkBody>>| {
            let (backend, raced) = (backend.clone(), raced.clone());
            let (root, next) = (racing_root.clone(), racing_next.clone());
            async move {
                let path = request.uri().path().to_owned();
                if request.method() == http::Method::DELETE
                    && path.contains("/app/reference.")
                    && path != "/releases/app/reference.bin"
                    && !raced.swap(true, Ordering::SeqCst)
                {
                    // A task of its own: another instance, and a future too deep to nest.
                    tokio::spawn(async move {
                        let (other_layer, _) = layered(&root, DeltaConfig::default());
                        put(&client(other_layer), "app/next.bin", &next).await;
                    })
                    .await
                    .expect("racing upload");
                }
                backend.oneshot(request).await
            }
        },
    );
    let deleting = client(deltaglider::DeltaLayer::new(DeltaConfig::default()).layer(intercept));
    delete(&deleting, "app/other.bin").await;
    let bases = bases(&root).await;
    assert!(
        bases.values().flatten().count() >= 1,
        "the racing upload made a chained reference: {bases:?}"
    );
    // Every base named is there, and the new version reads from a fresh instance.
    for base in bases.values().flatten() {
        assert!(bases.contains_key(base), "{base} is gone: {bases:?}");
    }
    let (fresh, _) = layered(&root, DeltaConfig::default());
    assert!(get(&client(fresh), "app/next.bin").await == next);
}
