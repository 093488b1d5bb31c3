//! Peak resident memory of one GET of a 40 MiB delta-stored object through a fresh layer
//! (cold reference cache). A measurement, not a check: run it alone with
//! `cargo test --release -p deltaglider-tests --test layer_streamed_memory -- --ignored --nocapture`.

use bytes::Bytes;
use deltaglider::DeltaConfig;
use deltaglider_codec::Sha256;
use deltaglider_tests::s3::layered;
use deltaglider_tests::scenario::{edit, noise, put, releases};
use http_body_util::{BodyExt, Empty};
use tower::ServiceExt;

/// A `/proc/self/status` value in KiB.
fn status_kib(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "a measurement; run alone with --ignored --nocapture"]
async fn peak_memory_of_a_cold_forty_mib_get() {
    let (root, s3, _) = releases("streamed-get-memory").await;
    let want = {
        let v1 = noise(7, 40 << 20);
        let v2 = edit(&v1, 8);
        put(&s3, "app/v1.zip", &v1).await;
        put(&s3, "app/v2.zip", &v2).await;
        Sha256::digest(&v2)
    };
    drop(s3);
    let (fresh, _) = layered(&root, DeltaConfig::default());
    let request = http::Request::get("http://localhost:9000/releases/app/v2.zip")
        .header(http::header::HOST, "localhost:9000")
        .body(Empty::<Bytes>::new())
        .expect("request");
    // Reset the high-water mark (Linux: "5" to clear_refs), then GET and hash the body as
    // it arrives, keeping none of it.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS:");
    let response = fresh.oneshot(request).await.expect("GET");
    let mut body = std::pin::pin!(response.into_body());
    let mut sha = Sha256::new();
    let mut frames = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body").into_data() {
            sha.update(&data);
            frames += 1;
        }
    }
    let peak = status_kib("VmHWM:");
    assert!(sha.finish() == want);
    eprintln!(
        "cold 40 MiB GET: {frames} frames, peak RSS {} MiB above the {} MiB before it",
        peak.saturating_sub(before) / 1024,
        before / 1024
    );
}
