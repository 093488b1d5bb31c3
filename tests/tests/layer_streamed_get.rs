//! A full GET of a delta-stored object streams window by window: the real `aws-sdk-s3`
//! client and direct calls over `s3s-fs`, with a warm and a cold reference cache, and with
//! damaged storage (a damaged object must never arrive complete).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use deltaglider::{DeltaConfig, DeltaLayer};
use deltaglider_codec::{MAX_WINDOW, Sha256};
use deltaglider_tests::s3::{client, fs_backend, layered};
use deltaglider_tests::scenario::{edit, get, get_range, noise, put, releases, stored};
use http_body_util::{BodyExt, Empty};
use tower::{Layer, ServiceExt};

/// The object size: several codec windows.
const SIZE: usize = 40 << 20;

/// What a direct GET through the layer delivered.
struct Delivered {
    status: http::StatusCode,
    content_length: Option<u64>,
    frames: usize,
    bytes: Vec<u8>,
    /// The body ended with an error (the server would abort the response).
    aborted: bool,
}

/// GETs `releases/<key>` by calling the layered service directly, reading the body frame
/// by frame so that a failure mid-way is visible.
async fn direct_get(root: &std::path::Path, config: DeltaConfig, key: &str) -> Delivered {
    let (service, _) = layered(root, config);
    let request = http::Request::get(format!("http://localhost:9000/releases/{key}"))
        .header(http::header::HOST, "localhost:9000")
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = service.oneshot(request).await.expect("no transport error");
    let (parts, body) = response.into_parts();
    let content_length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let mut body = std::pin::pin!(body);
    let mut delivered = Delivered {
        status: parts.status,
        content_length,
        frames: 0,
        bytes: Vec::new(),
        aborted: false,
    };
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    delivered.frames += 1;
                    delivered.bytes.extend_from_slice(&data);
                }
            }
            Err(_) => {
                delivered.aborted = true;
                break;
            }
        }
    }
    delivered
}

/// Stores a 40 MiB `v1` (the reference) and an edited `v2` (a delta) under `app/`.
async fn stored_pair(name: &str) -> (std::path::PathBuf, aws_sdk_s3::Client, Vec<u8>) {
    let (root, s3, _) = releases(name).await;
    let v1 = noise(7, SIZE);
    let v2 = edit(&v1, 8);
    put(&s3, "app/v1.zip", &v1).await;
    put(&s3, "app/v2.zip", &v2).await;
    assert_eq!(stored(&root, "app/reference.bin"), Some(SIZE as u64));
    assert!(stored(&root, "app/v2.zip.delta").is_some_and(|n| n < SIZE as u64 / 20));
    (root, s3, v2)
}

/// A client through a fresh layer whose backend calls are logged as
/// `METHOD /path [range]`.
fn recording_client(root: &std::path::Path) -> (aws_sdk_s3::Client, Arc<Mutex<Vec<String>>>) {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let backend = fs_backend(root);
    let recorder = {
        let log = log.clone();
        tower::service_fn(
            move |request: http::Request<
                deltaglider::RequestBody<aws_smithy_types::body::SdkBody>,
            >| {
                let mut line = format!("{} {}", request.method(), request.uri().path());
                if let Some(range) = request.headers().get("range") {
                    line.push_str(&format!(" [{}]", range.to_str().unwrap_or("?")));
                }
                log.lock().expect("log").push(line);
                backend.clone().oneshot(request)
            },
        )
    };
    let s3 = client(DeltaLayer::new(DeltaConfig::default()).layer(recorder));
    (s3, log)
}

fn flip(path: &std::path::Path, at: usize) {
    let mut bytes = std::fs::read(path).expect("stored file");
    let at = at.min(bytes.len() - 1);
    let end = (at + 16).min(bytes.len());
    for b in &mut bytes[at..end] {
        *b ^= 0x5A;
    }
    std::fs::write(path, bytes).expect("rewrite stored file");
}

#[tokio::test]
async fn forty_mib_delta_object_streams_exactly_with_warm_and_cold_caches() {
    let (root, warm, v2) = stored_pair("streamed-get").await;
    let want = Sha256::digest(&v2);

    // Warm: the layer that stored it holds the reference in its cache.
    assert!(Sha256::digest(&get(&warm, "app/v2.zip").await) == want);

    // Cold: a fresh layer reads the reference by ranges.
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let cold = client(fresh);
    assert!(Sha256::digest(&get(&cold, "app/v2.zip").await) == want);

    // The body arrives in pieces — at least one per window — with the announced length.
    let got = direct_get(&root, DeltaConfig::default(), "app/v2.zip").await;
    assert_eq!(got.status, http::StatusCode::OK);
    assert_eq!(got.content_length, Some(v2.len() as u64));
    assert!(!got.aborted);
    let windows = v2.len().div_ceil(MAX_WINDOW as usize);
    assert!(got.frames >= windows, "{} frames", got.frames);
    assert!(Sha256::digest(&got.bytes) == want);
}

#[tokio::test]
async fn a_cold_get_reads_the_reference_by_ranges() {
    let (root, _, v2) = stored_pair("streamed-get-calls").await;
    let (s3, log) = recording_client(&root);
    assert!(Sha256::digest(&get(&s3, "app/v2.zip").await) == Sha256::digest(&v2));
    let calls = std::mem::take(&mut *log.lock().expect("log"));
    assert_eq!(
        calls[..3],
        [
            "GET /releases/app/v2.zip.delta",
            // Beside the delta: whether the key is also stored whole (and newer).
            "HEAD /releases/app/v2.zip",
            "HEAD /releases/app/reference.bin"
        ]
    );
    let ranged = &calls[3..];
    assert!(ranged.len() >= 2, "{calls:?}");
    assert!(
        ranged
            .iter()
            .all(|c| c.starts_with("GET /releases/app/reference.bin [bytes=")),
        "{calls:?}"
    );

    // A backend that ignores Range (answers 200 with the whole reference): the layer keeps
    // only the bytes it asked for, and the object still arrives exact.
    let backend = fs_backend(&root);
    let ignores_range = tower::service_fn(
        move |mut request: http::Request<
            deltaglider::RequestBody<aws_smithy_types::body::SdkBody>,
        >| {
            request.headers_mut().remove("range");
            backend.clone().oneshot(request)
        },
    );
    let s3 = client(DeltaLayer::new(DeltaConfig::default()).layer(ignores_range));
    assert!(Sha256::digest(&get(&s3, "app/v2.zip").await) == Sha256::digest(&v2));
}

#[tokio::test]
async fn a_cold_range_get_reads_only_the_reference_bytes_it_needs() {
    let (root, _, v2) = stored_pair("range-get-calls").await;
    let (s3, log) = recording_client(&root);
    let len = v2.len();
    let part = get_range(
        &s3,
        "app/v2.zip",
        &format!("bytes={}-{}", len - 1000, len - 1),
    )
    .await;
    assert_eq!(part, v2[len - 1000..]);
    let calls = std::mem::take(&mut *log.lock().expect("log"));
    assert_eq!(
        calls[..3],
        [
            "GET /releases/app/v2.zip.delta",
            // Beside the delta: whether the key is also stored whole (and newer).
            "HEAD /releases/app/v2.zip",
            "HEAD /releases/app/reference.bin"
        ]
    );
    // A suffix of 1000 bytes: one window's worth of reference (the read-ahead is 8 MiB), not
    // all 40 MiB of it.
    let fetched: u64 = calls[3..]
        .iter()
        .map(|c| {
            let range = c
                .strip_prefix("GET /releases/app/reference.bin [bytes=")
                .and_then(|r| r.strip_suffix(']'))
                .unwrap_or_else(|| panic!("only ranged reference reads: {calls:?}"));
            let (a, b) = range.split_once('-').expect("a-b");
            b.parse::<u64>().expect("end") + 1 - a.parse::<u64>().expect("start")
        })
        .sum();
    assert!(
        fetched <= 9 << 20,
        "{fetched} reference bytes for a 1000-byte range"
    );
}

#[tokio::test]
async fn damaged_storage_never_yields_a_complete_body() {
    let (root, _, v2) = stored_pair("streamed-get-damage").await;
    let complete = |d: &Delivered| d.status.is_success() && !d.aborted && d.bytes.len() == v2.len();

    // The reference damaged past the first window: headers went out, the body aborts
    // short of its announced length.
    let reference = root.join("releases/app/reference.bin");
    let pristine = std::fs::read(&reference).expect("reference");
    flip(&reference, 3 * (MAX_WINDOW as usize) / 2);
    let got = direct_get(&root, DeltaConfig::default(), "app/v2.zip").await;
    assert!(!complete(&got), "a damaged reference was served complete");
    assert_eq!(got.status, http::StatusCode::OK);
    assert!(got.aborted && got.bytes.len() < v2.len());
    // The SDK, reading through a fresh layer, fails (or gets less).
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let result = client(fresh)
        .get_object()
        .bucket("releases")
        .key("app/v2.zip")
        .send()
        .await;
    if let Ok(out) = result {
        let body = out.body.collect().await;
        assert!(body.is_err() || body.is_ok_and(|b| b.to_vec().len() < v2.len()));
    }

    // Damaged within the first window: refused before any byte, as an error response.
    std::fs::write(&reference, &pristine).expect("restore");
    flip(&reference, 4096);
    let got = direct_get(&root, DeltaConfig::default(), "app/v2.zip").await;
    assert_eq!(got.status, http::StatusCode::INTERNAL_SERVER_ERROR);
    std::fs::write(&reference, &pristine).expect("restore");
    assert_eq!(
        direct_get(&root, DeltaConfig::default(), "app/v2.zip")
            .await
            .bytes,
        v2
    );

    // The delta damaged in the middle.
    let delta = root.join("releases/app/v2.zip.delta");
    let len = std::fs::metadata(&delta).expect("delta").len() as usize;
    flip(&delta, len / 2);
    let got = direct_get(&root, DeltaConfig::default(), "app/v2.zip").await;
    assert!(!complete(&got), "a damaged delta was served complete");
    assert!(got.bytes.len() < v2.len());
    assert!(got.aborted || !got.status.is_success());
}
