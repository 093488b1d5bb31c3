//! A key stored in both forms — `<key>` and `<key>.delta`, which a writer interrupted
//! between writing the new form and removing the old one leaves behind (for instance a
//! proxy killed after the backend completed a multipart upload over a delta) — reads as the
//! form written last, the same through GET, HEAD, LIST and CopyObject; the next write of
//! the key leaves one form.

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::DeltaConfig;
use deltaglider_tests::s3::{client, plain};
use deltaglider_tests::scenario::{edit, get, noise, put, releases_with, stored};

/// What the layer presents for `key`: GET bytes, HEAD length and ETag, LIST size.
async fn seen(s3: &aws_sdk_s3::Client, key: &str) -> (Vec<u8>, i64, String, i64) {
    let body = get(s3, key).await;
    let head = s3
        .head_object()
        .bucket("releases")
        .key(key)
        .send()
        .await
        .expect("HEAD");
    let listed = s3
        .list_objects_v2()
        .bucket("releases")
        .prefix(key)
        .send()
        .await
        .expect("LIST");
    let entries = listed.contents();
    assert_eq!(entries.len(), 1, "one entry for {key}: {entries:?}");
    assert_eq!(entries[0].key(), Some(key));
    (
        body,
        head.content_length().unwrap_or(-1),
        head.e_tag().unwrap_or_default().to_owned(),
        entries[0].size().unwrap_or(-1),
    )
}

#[tokio::test]
async fn a_whole_object_written_after_the_delta_is_what_every_reader_sees() {
    let (root, s3, _) = releases_with("two-forms-whole-newer", DeltaConfig::default()).await;
    let v1 = noise(1, 300_000);
    let v2 = edit(&v1, 2);
    put(&s3, "app/v.bin", &v1).await;
    put(&s3, "app/w.bin", &v2).await;
    assert!(stored(&root, "app/w.bin.delta").is_some());
    // The backend completes a multipart upload of w.bin (it lands whole), and the proxy
    // dies before it could replace the old delta: written straight to the backend.
    let v3 = noise(3, 200_000);
    let raw = client(plain(root.clone()));
    raw.put_object()
        .bucket("releases")
        .key("app/w.bin")
        .body(ByteStream::from(v3.clone()))
        .send()
        .await
        .expect("backend PUT");
    assert!(stored(&root, "app/w.bin.delta").is_some());
    let (body, length, etag, size) = seen(&s3, "app/w.bin").await;
    assert!(body == v3, "GET serves the newer whole object");
    assert_eq!((length, size), (v3.len() as i64, v3.len() as i64));
    assert_eq!(
        etag,
        format!("\"{}\"", deltaglider_codec::Md5::digest(&v3).to_hex())
    );
    // CopyObject reads the same version.
    s3.copy_object()
        .bucket("releases")
        .key("app/copy.bin")
        .copy_source("releases/app/w.bin")
        .send()
        .await
        .expect("COPY");
    assert!(get(&s3, "app/copy.bin").await == v3);
    // The next write of the key leaves one form, and the older version's delta is gone.
    let v4 = edit(&v1, 4);
    put(&s3, "app/w.bin", &v4).await;
    assert!(get(&s3, "app/w.bin").await == v4);
    assert_eq!(
        (stored(&root, "app/w.bin").is_some() as u8)
            + (stored(&root, "app/w.bin.delta").is_some() as u8),
        1
    );
    assert!(get(&s3, "app/v.bin").await == v1);
}

#[tokio::test]
async fn a_delta_written_after_the_whole_object_is_what_every_reader_sees() {
    let (root, s3, _) = releases_with("two-forms-delta-newer", DeltaConfig::default()).await;
    let v1 = noise(1, 300_000);
    let v2 = edit(&v1, 2);
    put(&s3, "app/v.bin", &v1).await;
    put(&s3, "app/w.bin", &v2).await;
    // An older whole object of w.bin left behind by a writer that died before removing
    // it: DeltaGlider's metadata dates it before the delta.
    let old = noise(9, 100_000);
    let raw = client(plain(root.clone()));
    raw.put_object()
        .bucket("releases")
        .key("app/w.bin")
        .metadata("dg-created-at", "2020-01-01T00:00:00.000000Z")
        .body(ByteStream::from(old))
        .send()
        .await
        .expect("backend PUT");
    assert!(stored(&root, "app/w.bin.delta").is_some());
    let (body, length, _, size) = seen(&s3, "app/w.bin").await;
    assert!(body == v2, "GET serves the newer delta");
    assert_eq!((length, size), (v2.len() as i64, v2.len() as i64));
}
