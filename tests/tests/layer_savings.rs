//! The savings ledger through the layer, with the real `aws-sdk-s3` client over s3s-fs:
//! after writes, overwrites, deletes, a multipart upload and copies, the figures any
//! layer instance reads (`/_deltaglider/api/savings`) are what the backend holds — the
//! bytes in its directory, references included — and stay so across a restart, a fold
//! of the journal and a reconciliation. The ledger is the layer's own: hidden from
//! listings, refused as a user key, and no obstacle to deleting an emptied bucket.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use deltaglider::DeltaConfig;
use deltaglider_tests::s3::{client, layered};
use deltaglider_tests::scenario::{delete, edit, noise, put, put_multipart, releases_with};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// A clock that runs `offset` µs ahead of the system's.
fn ahead(offset: Arc<AtomicU64>) -> impl Fn() -> SystemTime + Send + Sync + 'static {
    move || SystemTime::now() + Duration::from_micros(offset.load(Ordering::Relaxed))
}

/// One API answer, through a fresh layer over the same directory (another instance).
async fn api(root: &Path, method: &str, uri: &str) -> Value {
    let (service, _) = layered(root, DeltaConfig::default());
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-length", "0")
        .body(http_body_util::Full::new(Bytes::new()))
        .expect("request");
    let response = service.oneshot(request).await.expect("served");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert!(status.is_success(), "{method} {uri}: {status} {body:?}");
    serde_json::from_slice(&body).expect("JSON")
}

/// Bytes and count of what the backend holds for the bucket, its ledger left out.
fn on_disk(root: &Path) -> (u64, u64, u64) {
    let (mut bytes, mut references, mut objects) = (0, 0, 0);
    let mut dirs = vec![root.join("releases")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != ".deltaglider" {
                    dirs.push(path);
                }
                continue;
            }
            bytes += entry.metadata().expect("metadata").len();
            if name.starts_with("reference") {
                references += 1;
            } else {
                objects += 1;
            }
        }
    }
    (bytes, objects, references)
}

fn figure(bucket: &Value, name: &str) -> i64 {
    bucket[name]
        .as_i64()
        .unwrap_or_else(|| panic!("{name} in {bucket}"))
}

fn releases_bucket(answer: &Value) -> &Value {
    answer["buckets"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["bucket"] == "releases"))
        .unwrap_or_else(|| panic!("releases in {answer}"))
}

/// The figures of `answer` are what the backend holds, and `originals` what clients
/// wrote.
fn check(root: &Path, originals: &[(String, Vec<u8>)], answer: &Value, what: &str) {
    let bucket = releases_bucket(answer);
    let (bytes, objects, references) = on_disk(root);
    let original: usize = originals.iter().map(|(_, v)| v.len()).sum();
    assert_eq!(
        figure(bucket, "original_bytes"),
        original as i64,
        "{what}: {bucket}"
    );
    assert_eq!(
        figure(bucket, "stored_bytes"),
        bytes as i64,
        "{what}: {bucket}"
    );
    assert_eq!(
        figure(bucket, "objects"),
        objects as i64,
        "{what}: {bucket}"
    );
    assert_eq!(
        figure(bucket, "references"),
        references as i64,
        "{what}: {bucket}"
    );
    assert_eq!(
        figure(bucket, "saved_bytes"),
        original as i64 - bytes as i64,
        "{what}"
    );
    let spaces = bucket["deltaspaces"].as_array().expect("deltaspaces");
    let app = spaces.iter().find(|s| s["prefix"] == "app/").expect("app/");
    assert!(figure(app, "delta_objects") >= 4, "{what}: {app}");
    assert!(
        !answer.to_string().contains("v0.bin"),
        "keys never leave the ledger"
    );
}

#[tokio::test]
async fn the_ledger_holds_what_the_backend_holds_across_instances_and_reconciliation() {
    let offset = Arc::new(AtomicU64::new(0));
    let config = DeltaConfig::default().clock(ahead(Arc::clone(&offset)));
    let (root, s3, _) = releases_with("layer-savings", config).await;
    // Counted once while empty: from here on, the journal carries the figures.
    let empty = api(&root, "GET", "/_deltaglider/api/savings").await;
    assert_eq!(figure(releases_bucket(&empty), "objects"), 0);

    let v1 = noise(7, 300_000);
    let mut originals: Vec<(String, Vec<u8>)> = Vec::new();
    let mut version = v1.clone();
    for i in 0..5 {
        let key = format!("app/v{i}.bin");
        put(&s3, &key, &version).await;
        originals.push((key, version.clone()));
        version = edit(&version, i + 20);
    }
    put(&s3, "docs/readme.txt", b"hello").await;
    originals.push(("docs/readme.txt".into(), b"hello".to_vec()));
    // An overwrite, a delete, a copy and a multipart upload.
    let again = edit(&v1, 99);
    put(&s3, "app/v1.bin", &again).await;
    originals[1].1 = again;
    delete(&s3, "app/v3.bin").await;
    originals.retain(|(k, _)| k != "app/v3.bin");
    s3.copy_object()
        .bucket("releases")
        .key("app/copy.bin")
        .copy_source("releases/app/v4.bin")
        .send()
        .await
        .expect("copy");
    let v4 = originals
        .iter()
        .find(|(k, _)| k == "app/v4.bin")
        .expect("v4 stored")
        .1
        .clone();
    originals.push(("app/copy.bin".into(), v4));
    let big = edit(&version, 5);
    put_multipart(&s3, "app/parts.bin", &big, 5 << 20).await;
    originals.push(("app/parts.bin".into(), big));

    let incremental = api(&root, "GET", "/_deltaglider/api/savings").await;
    check(&root, &originals, &incremental, "from the journal");
    assert_eq!(
        objects_in_listing(&s3).await,
        originals.len(),
        "the ledger is not listed"
    );

    // Past the grace period and the summary's age: the next read folds the journal.
    offset.store(2 * 3_600_000_000, Ordering::Relaxed);
    let (service, _) = layered(
        &root,
        DeltaConfig::default().clock(ahead(Arc::clone(&offset))),
    );
    let folding = client(service);
    put(&folding, "app/late.bin", &edit(&version, 77)).await;
    originals.push(("app/late.bin".into(), edit(&version, 77)));
    let journal = root.join("releases/.deltaglider/stats/journal");
    let before = std::fs::read_dir(&journal).map(|d| d.count()).unwrap_or(0);
    let _ = api_with_clock(&root, &offset).await;
    let after = std::fs::read_dir(&journal).map(|d| d.count()).unwrap_or(0);
    assert!(
        after < before,
        "the read folded the journal ({before} → {after} entries)"
    );
    check(
        &root,
        &originals,
        &api(&root, "GET", "/_deltaglider/api/savings").await,
        "after a fold",
    );

    let reconciled = api(&root, "POST", "/_deltaglider/api/reconcile?bucket=releases").await;
    assert!(reconciled["reconciled_at"].is_string(), "{reconciled}");
    check(
        &root,
        &originals,
        &serde_json::json!({ "buckets": [reconciled] }),
        "reconciled",
    );
    let history = releases_bucket(
        &api(&root, "GET", "/_deltaglider/api/savings?bucket=releases").await,
    )["history"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(history >= 3, "points over time: {history}");

    // A user key under the ledger's folder is refused; an emptied bucket can be deleted.
    let refused = s3
        .put_object()
        .bucket("releases")
        .key(".deltaglider/stats/summary/99999999999999999999.json")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
        .send()
        .await;
    assert!(refused.is_err(), "a forged ledger entry is refused");
    let full = s3.delete_bucket().bucket("releases").send().await;
    let code = full
        .err()
        .and_then(|e| e.into_service_error().meta().code().map(str::to_owned));
    assert_eq!(
        code.as_deref(),
        Some("BucketNotEmpty"),
        "a bucket with objects stays"
    );
    assert_eq!(
        objects_in_listing(&s3).await,
        originals.len(),
        "and nothing in it changed"
    );
    for (key, _) in &originals {
        delete(&s3, key).await;
    }
    s3.delete_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("an emptied bucket deletes, its ledger with it");
}

/// A savings read through a layer whose clock runs `offset` ahead.
async fn api_with_clock(root: &Path, offset: &Arc<AtomicU64>) -> http::StatusCode {
    let (service, _) = layered(
        root,
        DeltaConfig::default().clock(ahead(Arc::clone(offset))),
    );
    let request = http::Request::builder()
        .uri("/_deltaglider/api/savings")
        .header("content-length", "0")
        .body(http_body_util::Full::new(Bytes::new()))
        .expect("request");
    service.oneshot(request).await.expect("served").status()
}

async fn objects_in_listing(s3: &aws_sdk_s3::Client) -> usize {
    let mut count = 0;
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("releases")
            .set_continuation_token(token)
            .send()
            .await
            .expect("list");
        count += page.contents().len();
        assert!(
            page.contents()
                .iter()
                .all(|o| !o.key().unwrap_or("").starts_with(".deltaglider")),
            "no ledger key listed"
        );
        match page.next_continuation_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return count,
        }
    }
}
