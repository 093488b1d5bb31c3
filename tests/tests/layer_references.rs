//! References never outlive their use: overwriting one key with unrelated content leaves
//! the one reference its current version needs (not one per version), and writers in
//! separate layer instances racing into one deltaspace stay within the 16-reference cap.

use std::path::Path;

use deltaglider::{DeltaConfig, DeltaLayer, References};
use deltaglider_tests::s3::{client, fs_backend};
use deltaglider_tests::scenario::{get, noise, put, releases_with};
use tower::Layer;

/// The references stored in deltaspace `space` of bucket `releases`.
fn references(root: &Path, space: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("releases").join(space))
        .map(|dir| {
            dir.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("reference.") && n.ends_with(".bin"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Bytes stored under deltaspace `space` (s3s-fs keeps metadata in separate files).
fn stored_bytes(root: &Path, space: &str) -> u64 {
    std::fs::read_dir(root.join("releases").join(space))
        .expect("deltaspace")
        .map(|e| e.expect("entry").metadata().expect("metadata"))
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[tokio::test]
async fn overwriting_a_key_with_unrelated_content_keeps_one_reference() {
    let (root, s3, _) = releases_with("refs-overwrite", DeltaConfig::default()).await;
    let size = 256 << 10;
    for i in 0..20 {
        // Each version shares nothing with the previous ones: it becomes a reference of
        // its own, and the one the previous version named is no longer needed.
        let last = noise(1000 + i, size);
        put(&s3, "app/build.bin", &last).await;
        let now = references(&root, "app");
        assert!(now.len() <= 1, "after version {i}: {now:?}");
        assert!(get(&s3, "app/build.bin").await == last, "version {i}");
    }
    assert_eq!(references(&root, "app").len(), 1);
    // The key costs its size once (the reference), plus a delta of a few dozen bytes.
    let total = stored_bytes(&root, "app");
    assert!(
        total < size as u64 + 4096,
        "{total} bytes stored for one key of {size}"
    );
    // Stored whole over its delta (too small to become a reference): no reference is
    // left at all.
    let small = noise(3, 10_000);
    put(&s3, "app/build.bin", &small).await;
    assert_eq!(references(&root, "app"), Vec::<String>::new());
    assert!(get(&s3, "app/build.bin").await == small);
}

#[tokio::test]
async fn a_delta_replaced_by_a_whole_object_releases_reference_bin() {
    // Under `First` every delta names `reference.bin`: when the key's only delta is
    // replaced by a version stored whole (resembling nothing), the reference goes.
    let config = DeltaConfig::default().references(References::First);
    let (root, s3, _) = releases_with("refs-first-whole", config).await;
    put(&s3, "app/a.bin", &noise(1, 200_000)).await;
    assert_eq!(references(&root, "app"), ["reference.bin"]);
    let other = noise(2, 200_000);
    put(&s3, "app/a.bin", &other).await;
    assert_eq!(references(&root, "app"), Vec::<String>::new());
    assert!(get(&s3, "app/a.bin").await == other);
}

// Ignored: over s3s-fs 0.14 the cap does not hold under this much concurrency. Its listings
// answer 500 when they meet a file deleted under them; a writer that cannot count the
// references withdraws its own, but a withdrawal whose "does a delta name it now?" check
// cannot list puts the reference back (never lose a reference a delta may need), and with
// 6 writers most checks fail: 18-29 references were left in runs on an idle machine. Over
// SeaweedFS, whose listings do not fail so, `tests/clients/two_proxies.py` checks the cap
// with two real proxies in CI. Run with `--ignored` to see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "s3s-fs listings fail under concurrent deletes; the cap is checked over SeaweedFS (two_proxies.py)"]
async fn racing_instances_stay_within_the_reference_cap() {
    let (root, _, _) = releases_with("refs-cap-race", DeltaConfig::default()).await;
    // Six stateless instances (each its own caches and hints) over one backend, 48
    // unrelated objects at once: each would become a reference, but a deltaspace holds at
    // most 16. (One backend service: s3s-fs instances over one directory would share
    // temporary file names.)
    let backend = fs_backend(&root);
    let clients: Vec<_> = (0..6)
        .map(|_| client(DeltaLayer::new(DeltaConfig::default()).layer(backend.clone())))
        .collect();
    let objects: Vec<Vec<u8>> = (0..48).map(|i| noise(5000 + i, 100_000)).collect();
    // The deltaspace is seeded first: s3s-fs checks `If-None-Match` apart from the write,
    // so racing seeds of `reference.bin` could overwrite each other (FORMAT.md, section 9).
    put(&clients[0], "mixed/o00.bin", &objects[0]).await;
    let mut tasks = Vec::new();
    for (i, body) in objects.iter().enumerate().skip(1) {
        let (s3, body) = (clients[i % clients.len()].clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            // As real clients do, a 5xx is retried: s3s-fs answers 500 to a listing that
            // meets a file deleted under it, and withdrawn references are deleted.
            for attempt in 1.. {
                let sent = s3
                    .put_object()
                    .bucket("releases")
                    .key(format!("mixed/o{i:02}.bin"))
                    .body(body.clone().into())
                    .send()
                    .await;
                match sent {
                    Ok(_) => break,
                    Err(e)
                        if attempt < 8
                            && e.raw_response()
                                .is_some_and(|r| r.status().is_server_error()) =>
                    {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("PUT o{i:02}: {e:?}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let now = references(&root, "mixed");
    assert!(
        !now.is_empty() && now.len() <= 16,
        "{} references: {now:?}",
        now.len()
    );
    for (i, body) in objects.iter().enumerate() {
        let s3 = &clients[(i + 1) % clients.len()];
        assert!(
            get(s3, &format!("mixed/o{i:02}.bin")).await == *body,
            "o{i:02}"
        );
    }
}

#[tokio::test]
async fn a_reference_whose_removal_cannot_be_rechecked_is_put_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::ServiceExt;

    let (root, s3, _) = releases_with("refs-recheck-fails", DeltaConfig::default()).await;
    put(&s3, "mixed/app-1.bin", &noise(1, 300_000)).await;
    let other = noise(3, 300_000);
    put(&s3, "mixed/other.bin", &other).await;
    let before = references(&root, "mixed");
    assert_eq!(before.len(), 2, "{before:?}");

    // Once a content-named reference is deleted, every listing fails (503): the remover
    // cannot tell whether a delta named it meanwhile, so it must put it back.
    let backend = fs_backend(&root);
    let deleted = Arc::new(AtomicBool::new(false));
    let failing = {
        let deleted = deleted.clone();
        tower::service_fn(
            move |request: http::Request<
                deltaglider::RequestBody<aws_smithy_types::body::SdkBody>,
            >| {
                let (backend, deleted) = (backend.clone(), deleted.clone());
                async move {
                    let path = request.uri().path().to_owned();
                    if request.method() == http::Method::DELETE
                        && path.contains("/mixed/reference.")
                        && path != "/releases/mixed/reference.bin"
                    {
                        deleted.store(true, Ordering::SeqCst);
                    }
                    if deleted.load(Ordering::SeqCst)
                        && request
                            .uri()
                            .query()
                            .is_some_and(|q| q.contains("list-type"))
                    {
                        let mut unavailable = http::Response::new(s3s::Body::from(
                            "<Error><Code>SlowDown</Code></Error>".to_owned(),
                        ));
                        *unavailable.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                        return Ok(unavailable);
                    }
                    backend.oneshot(request).await
                }
            },
        )
    };
    let deleting = client(DeltaLayer::new(DeltaConfig::default()).layer(failing));
    deltaglider_tests::scenario::delete(&deleting, "mixed/other.bin").await;
    assert!(deleted.load(Ordering::SeqCst), "the removal was attempted");
    assert_eq!(
        references(&root, "mixed"),
        before,
        "the reference was put back"
    );
}
