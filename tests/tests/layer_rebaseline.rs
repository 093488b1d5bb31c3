//! Reference removal through the layer with the real `aws-sdk-s3` client over s3s-fs: a
//! reference no delta names any more is removed while the deltaspace keeps other deltas,
//! and one named while it is removed is restored. (Renewal and chains:
//! `layer_reference_chains.rs`.)

use deltaglider::DeltaConfig;
use deltaglider_tests::s3::{client, layered};
use deltaglider_tests::scenario::{delete, get, noise, put, releases_with};

#[tokio::test]
async fn a_reference_no_delta_names_goes_while_other_deltas_stay() {
    let (root, s3, _) = releases_with("reference-gc", DeltaConfig::default()).await;
    let app = noise(1, 300_000);
    let app2 = deltaglider_tests::scenario::edit(&app, 2);
    let other = noise(3, 300_000);
    put(&s3, "mixed/app-1.bin", &app).await;
    put(&s3, "mixed/app-2.bin", &app2).await;
    // Resembles nothing there: it becomes a content-named reference of its own.
    put(&s3, "mixed/other.bin", &other).await;
    let references = |root: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join("releases/mixed"))
            .expect("deltaspace")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("reference"))
            .collect();
        names.sort();
        names
    };
    let before = references(&root);
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(before.contains(&"reference.bin".to_owned()));

    // Its only delta goes: so does its reference; reference.bin (named by app-1 and app-2)
    // stays, and they still read back.
    delete(&s3, "mixed/other.bin").await;
    assert_eq!(references(&root), ["reference.bin"]);
    assert!(get(&s3, "mixed/app-2.bin").await == app2);

    // Uploaded again, it gets its reference back; a fresh layer reads it.
    put(&s3, "mixed/other.bin", &other).await;
    assert_eq!(references(&root), before);
    let (fresh, _) = layered(&root, DeltaConfig::default());
    assert!(get(&client(fresh), "mixed/other.bin").await == other);

    // app-1 goes: reference.bin stays for app-2 (and the other reference for other.bin).
    delete(&s3, "mixed/app-1.bin").await;
    assert_eq!(references(&root), before);
    // Everything goes: no reference is left.
    for key in ["mixed/app-2.bin", "mixed/other.bin"] {
        delete(&s3, key).await;
    }
    assert_eq!(references(&root), Vec::<String>::new());
}

#[tokio::test]
async fn a_reference_named_while_it_is_removed_is_restored() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::{Layer, ServiceExt};

    let (root, s3, _) = releases_with("reference-gc-race", DeltaConfig::default()).await;
    let app = noise(1, 300_000);
    let other = noise(3, 300_000);
    put(&s3, "mixed/app-1.bin", &app).await;
    put(&s3, "mixed/other.bin", &other).await;

    // The backend of the layer that deletes: just before it removes the content-named
    // reference, another instance stores a copy of `other` — a delta naming that reference.
    let backend = deltaglider_tests::s3::fs_backend(&root);
    let raced = Arc::new(AtomicBool::new(false));
    let racing_root = root.clone();
    let intercept = {
        let raced = raced.clone();
        tower::service_fn(
            move |request: http::Request<
                deltaglider::RequestBody<aws_smithy_types::body::SdkBody>,
            >| {
                let (backend, raced, root) = (backend.clone(), raced.clone(), racing_root.clone());
                async move {
                    let path = request.uri().path().to_owned();
                    if request.method() == http::Method::DELETE
                        && path.contains("/mixed/reference.")
                        && path != "/releases/mixed/reference.bin"
                        && !raced.swap(true, Ordering::SeqCst)
                    {
                        // Another instance is another process: its PUT runs as a task
                        // of its own, not nested inside this request's future.
                        tokio::spawn(async move {
                            let (other_layer, _) = layered(&root, DeltaConfig::default());
                            put(&client(other_layer), "mixed/copy.bin", &noise(3, 300_000)).await;
                        })
                        .await
                        .expect("the other instance's upload");
                    }
                    backend.oneshot(request).await
                }
            },
        )
    };
    let deleting = client(deltaglider::DeltaLayer::new(DeltaConfig::default()).layer(intercept));
    delete(&deleting, "mixed/other.bin").await;
    assert!(raced.load(Ordering::SeqCst), "the removal was attempted");
    // The reference was deleted, seen to be named by copy.bin's delta, and restored.
    let (fresh, _) = layered(&root, DeltaConfig::default());
    assert!(get(&client(fresh), "mixed/copy.bin").await == other);
    assert!(get(&s3, "mixed/app-1.bin").await == app);
}
