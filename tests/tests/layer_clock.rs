//! What the layer dates comes from the configured clock (on wasm32 there is no other: a
//! Worker that gave none wrote 1970).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deltaglider::DeltaConfig;
use deltaglider_tests::scenario::{edit, noise, put, releases_with};

/// 2031-03-05T05:06:07.891Z.
fn fixed() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_930_453_567_891)
}

#[tokio::test]
async fn the_configured_clock_dates_what_the_layer_writes() {
    let config = DeltaConfig::default().clock(fixed);
    let (root, s3, _) = releases_with("layer-clock", config).await;
    let v1 = noise(1, 200_000);
    put(&s3, "v/a.zip", &v1).await;
    put(&s3, "v/b.zip", &edit(&v1, 2)).await;
    let raw = deltaglider_tests::s3::client(deltaglider_tests::s3::plain(root.clone()));
    for stored in ["v/reference.bin", "v/b.zip.delta"] {
        let head = raw
            .head_object()
            .bucket("releases")
            .key(stored)
            .send()
            .await
            .unwrap_or_else(|e| panic!("HEAD {stored}: {e:?}"));
        let created = head
            .metadata()
            .and_then(|m| m.get("dg-created-at"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(created, "2031-03-05T05:06:07.891000Z", "{stored}");
    }
    let copied = s3
        .copy_object()
        .bucket("releases")
        .key("v/c.zip")
        .copy_source("releases/v/b.zip")
        .send()
        .await
        .expect("copy");
    let last_modified = copied
        .copy_object_result()
        .and_then(|r| r.last_modified())
        .expect("LastModified");
    assert_eq!(
        last_modified.to_millis().expect("millis"),
        1_930_453_567_891
    );
    let _ = std::fs::remove_dir_all(root);
}
