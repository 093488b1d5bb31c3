//! The real `aws-sdk-s3` client against `DeltaLayer` over an `s3s-fs` backend, in-process.

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::{DeltaConfig, References, keys};
use deltaglider_codec::{Md5, Sha256};
use deltaglider_tests::s3::{client, layered};
use deltaglider_tests::scenario::{edit, get, noise, put, releases, stored};

#[tokio::test]
async fn similar_versions_are_stored_as_deltas_and_read_back_exactly() {
    let (root, s3, layer) = releases("layer-sdk-roundtrip").await;

    let v1 = noise(1, 3 << 20);
    let v2 = edit(&v1, 2);
    let unrelated = noise(3, 1 << 20);
    let notes = b"release notes, not delta-eligible".to_vec();

    let out = put(&s3, "app/v1.zip", &v1).await;
    assert_eq!(
        out.e_tag(),
        Some(format!("\"{}\"", Md5::digest(&v1)).as_str())
    );
    put(&s3, "app/v2.zip", &v2).await;
    put(&s3, "app/other.zip", &unrelated).await;
    put(&s3, "app/notes.txt", &notes).await;

    // The layout of docs/FORMAT.md: the first reference, small deltas; the unrelated file,
    // which resembles no reference, becomes a content-named reference of its own.
    assert_eq!(stored(&root, "app/reference.bin"), Some(v1.len() as u64));
    let delta2 = stored(&root, "app/v2.zip.delta").expect("v2 stored as a delta");
    assert!(delta2 < v2.len() as u64 / 50, "delta of {delta2} bytes");
    assert!(stored(&root, "app/v1.zip.delta").is_some());
    assert!(stored(&root, "app/v2.zip").is_none());
    let other_ref = keys::content_reference_key("app/", &Sha256::digest(&unrelated));
    assert_eq!(stored(&root, &other_ref), Some(unrelated.len() as u64));
    assert!(stored(&root, "app/other.zip.delta").is_some_and(|n| n < 1000));
    assert!(stored(&root, "app/other.zip").is_none());

    for (key, bytes) in [
        ("app/v1.zip", &v1),
        ("app/v2.zip", &v2),
        ("app/other.zip", &unrelated),
        ("app/notes.txt", &notes),
    ] {
        let got = get(&s3, key).await;
        assert!(
            Sha256::digest(&got) == Sha256::digest(bytes),
            "{key} differs"
        );
    }

    let head = s3
        .head_object()
        .bucket("releases")
        .key("app/v2.zip")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.content_length(), Some(v2.len() as i64));
    assert_eq!(
        head.e_tag(),
        Some(format!("\"{}\"", Md5::digest(&v2)).as_str())
    );
    assert_eq!(head.content_type(), Some("application/zip"));
    let metadata = head.metadata().expect("user metadata");
    assert_eq!(metadata.get("build").map(String::as_str), Some("1234"));
    assert!(
        metadata.keys().all(|k| !k.starts_with("dg")),
        "internal metadata leaked: {metadata:?}"
    );

    let part = s3
        .get_object()
        .bucket("releases")
        .key("app/v2.zip")
        .range("bytes=1000-1999")
        .send()
        .await
        .expect("range GET");
    assert_eq!(
        part.content_range(),
        Some(format!("bytes 1000-1999/{}", v2.len()).as_str())
    );
    let part = part.body.collect().await.expect("body").to_vec();
    assert_eq!(part, &v2[1000..2000]);

    let unchanged = s3
        .get_object()
        .bucket("releases")
        .key("app/v2.zip")
        .if_none_match(format!("\"{}\"", Md5::digest(&v2)))
        .send()
        .await;
    let status = unchanged
        .expect_err("304")
        .raw_response()
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(304));

    // A file body: the SDK streams it as aws-chunked with a trailing CRC32 checksum.
    let v3 = edit(&v2, 9);
    let file = root.join("v3-upload.zip");
    std::fs::write(&file, &v3).expect("write upload file");
    s3.put_object()
        .bucket("releases")
        .key("app/v3.zip")
        .body(ByteStream::from_path(&file).await.expect("file body"))
        .send()
        .await
        .expect("streaming PUT");
    assert!(stored(&root, "app/v3.zip.delta").is_some_and(|n| n < v3.len() as u64 / 50));
    assert_eq!(get(&s3, "app/v3.zip").await, v3);

    assert!(
        layer.cache_stats().hits > 0,
        "the reference cache served reads"
    );
}

/// `References::First` keeps the Python CLI's layout: one reference per deltaspace, and an
/// unrelated object stored whole. Deleting every object removes every reference.
#[tokio::test]
async fn first_reference_only_and_cleanup() {
    let root = deltaglider_tests::scratch_dir("layer-sdk-first");
    let (service, _layer) = layered(&root, DeltaConfig::default().references(References::First));
    let s3 = client(service);
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("bucket");
    let v1 = noise(11, 1 << 20);
    let unrelated = noise(12, 1 << 20);
    put(&s3, "app/v1.zip", &v1).await;
    put(&s3, "app/v2.zip", &edit(&v1, 5)).await;
    put(&s3, "app/other.zip", &unrelated).await;
    assert_eq!(stored(&root, "app/other.zip"), Some(unrelated.len() as u64));
    let other_ref = keys::content_reference_key("app/", &Sha256::digest(&unrelated));
    assert!(stored(&root, &other_ref).is_none());

    // Best-of-3 over the same bucket: the unrelated object, uploaded again, becomes a
    // reference; deleting everything then removes both references.
    let (service, _layer) = layered(&root, DeltaConfig::default());
    let s3 = client(service);
    put(&s3, "app/other.zip", &unrelated).await;
    assert!(stored(&root, &other_ref).is_some());
    assert!(stored(&root, "app/other.zip").is_none());
    for key in ["app/v1.zip", "app/v2.zip", "app/other.zip"] {
        s3.delete_object()
            .bucket("releases")
            .key(key)
            .send()
            .await
            .expect("delete");
    }
    assert!(stored(&root, "app/reference.bin").is_none());
    assert!(stored(&root, &other_ref).is_none());
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_lose_nothing() {
    let (root, s3, _layer) = releases("layer-sdk-errors").await;
    let v1 = noise(4, 1 << 20);
    put(&s3, "app/v1.zip", &v1).await;

    for key in [
        "app/v1.zip.delta",
        "app/reference.bin",
        "reference.0123456789abcdef.bin",
    ] {
        let e = s3
            .put_object()
            .bucket("releases")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect_err("reserved key");
        let e = e.into_service_error();
        assert_eq!(e.meta().code(), Some("InvalidArgument"), "{key}");
        assert!(
            e.meta().message().is_some_and(|m| m.contains("reserved")),
            "{key}"
        );
    }
    let e = s3
        .put_object()
        .bucket("releases")
        .key("app/v2.zip")
        .metadata("dg-note", "mine")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("reserved metadata");
    assert_eq!(
        e.into_service_error().meta().code(),
        Some("InvalidArgument")
    );

    // Client metadata that does not fit beside DeltaGlider's: refused, nothing stored.
    let e = s3
        .put_object()
        .bucket("releases")
        .key("app/big-meta.zip")
        .metadata("notes", "x".repeat(1800))
        .body(ByteStream::from(v1.clone()))
        .send()
        .await
        .expect_err("oversize metadata");
    assert_eq!(
        e.into_service_error().meta().code(),
        Some("MetadataTooLarge")
    );
    assert!(
        stored(&root, "app/big-meta.zip.delta").is_none()
            && stored(&root, "app/big-meta.zip").is_none()
    );

    let e = s3
        .get_object()
        .bucket("releases")
        .key("app/missing.zip")
        .send()
        .await
        .expect_err("missing");
    assert!(e.into_service_error().is_no_such_key());

    // A delta damaged in storage is an error, never wrong bytes.
    let delta = root.join("releases/app/v1.zip.delta");
    let mut bytes = std::fs::read(&delta).expect("delta on disk");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&delta, bytes).expect("corrupt the delta");
    let e = s3
        .get_object()
        .bucket("releases")
        .key("app/v1.zip")
        .send()
        .await
        .expect_err("corrupt delta");
    assert_eq!(e.into_service_error().meta().code(), Some("InternalError"));

    // The reference survives and the object can be written again.
    assert_eq!(stored(&root, "app/reference.bin"), Some(v1.len() as u64));
    put(&s3, "app/v1.zip", &v1).await;
    assert_eq!(get(&s3, "app/v1.zip").await, v1);

    s3.delete_object()
        .bucket("releases")
        .key("app/v1.zip")
        .send()
        .await
        .expect("delete");
    assert!(stored(&root, "app/v1.zip.delta").is_none());
    let e = s3
        .get_object()
        .bucket("releases")
        .key("app/v1.zip")
        .send()
        .await
        .expect_err("deleted");
    assert!(e.into_service_error().is_no_such_key());
}

#[tokio::test]
async fn copies_keep_bytes_and_metadata_and_batch_deletes_remove_both_forms() {
    use aws_sdk_s3::types::{Delete, MetadataDirective, ObjectIdentifier};
    let (root, s3, _layer) = releases("layer-sdk-copy-delete").await;
    let v1 = noise(7, 2 << 20);
    let v2 = edit(&v1, 8);
    put(&s3, "app/v1.zip", &v1).await;
    put(&s3, "app/v2.zip", &v2).await;

    // Delta to delta, metadata copied.
    s3.copy_object()
        .bucket("releases")
        .key("app/v2-copy.zip")
        .copy_source("releases/app/v2.zip")
        .send()
        .await
        .expect("copy");
    assert_eq!(get(&s3, "app/v2-copy.zip").await, v2);
    assert!(stored(&root, "app/v2-copy.zip.delta").is_some());
    let head = s3
        .head_object()
        .bucket("releases")
        .key("app/v2-copy.zip")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("build"))
            .map(String::as_str),
        Some("1234")
    );
    assert_eq!(head.content_type(), Some("application/zip"));
    assert_eq!(
        head.e_tag(),
        Some(format!("\"{}\"", Md5::digest(&v2)).as_str())
    );

    // Delta to a non-eligible key (stored whole), metadata replaced.
    s3.copy_object()
        .bucket("releases")
        .key("app/v2.data")
        .copy_source("releases/app/v2.zip")
        .metadata_directive(MetadataDirective::Replace)
        .metadata("build", "5678")
        .content_type("application/octet-stream")
        .send()
        .await
        .expect("copy with REPLACE");
    assert_eq!(get(&s3, "app/v2.data").await, v2);
    assert_eq!(stored(&root, "app/v2.data"), Some(v2.len() as u64));
    let head = s3
        .head_object()
        .bucket("releases")
        .key("app/v2.data")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("build"))
            .map(String::as_str),
        Some("5678")
    );

    let e = s3
        .copy_object()
        .bucket("releases")
        .key("app/x.zip")
        .copy_source("releases/app/missing.zip")
        .send()
        .await
        .expect_err("missing source");
    assert_eq!(e.into_service_error().meta().code(), Some("NoSuchKey"));

    let objects = [
        "app/v1.zip",
        "app/v2-copy.zip",
        "app/v2.data",
        "app/never-existed.zip",
    ]
    .iter()
    .map(|k| {
        ObjectIdentifier::builder()
            .key(*k)
            .build()
            .expect("identifier")
    })
    .collect::<Vec<_>>();
    let result = s3
        .delete_objects()
        .bucket("releases")
        .delete(
            Delete::builder()
                .set_objects(Some(objects))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("DeleteObjects");
    assert_eq!(result.deleted().len(), 4, "{result:?}");
    assert!(result.errors().is_empty(), "{result:?}");
    for key in ["app/v1.zip.delta", "app/v2-copy.zip.delta", "app/v2.data"] {
        assert!(stored(&root, key).is_none(), "{key} still stored");
    }
    // The survivor still reads back, through the reference that stayed.
    assert_eq!(get(&s3, "app/v2.zip").await, v2);

    let listed = s3
        .list_objects_v2()
        .bucket("releases")
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["app/v2.zip"]);
    assert_eq!(listed.contents()[0].size(), Some(v2.len() as i64));
}

#[tokio::test]
async fn references_go_with_their_last_delta_and_come_back_when_needed() {
    let (root, s3, _layer) = releases("layer-sdk-references").await;
    let v1 = noise(31, 1 << 20);
    let v2 = edit(&v1, 32);
    put(&s3, "r/v1.zip", &v1).await;
    put(&s3, "r/v2.zip", &v2).await;
    put(&s3, "r/notes.txt", b"kept").await;
    let delete = |key: &'static str| {
        let s3 = s3.clone();
        async move {
            s3.delete_object()
                .bucket("releases")
                .key(key)
                .send()
                .await
                .expect("delete");
        }
    };
    delete("r/v1.zip").await;
    assert!(
        stored(&root, "r/reference.bin").is_some(),
        "v2 still needs it"
    );
    assert_eq!(get(&s3, "r/v2.zip").await, v2);
    delete("r/v2.zip").await;
    assert!(
        stored(&root, "r/reference.bin").is_none(),
        "no delta left: reference removed"
    );
    assert_eq!(get(&s3, "r/notes.txt").await, b"kept");

    // A new upload seeds a new reference.
    put(&s3, "r/v2.zip", &v2).await;
    assert_eq!(stored(&root, "r/reference.bin"), Some(v2.len() as u64));

    // Another instance removed the reference while this one had it cached (simulated by
    // deleting it underneath): the next delta written against it restores it.
    let (other, _) = layered(&root, DeltaConfig::default());
    let other = client(other);
    std::fs::remove_file(root.join("releases/r/reference.bin")).expect("remove reference");
    let v3 = edit(&v2, 33);
    put(&s3, "r/v3.zip", &v3).await;
    assert_eq!(stored(&root, "r/reference.bin"), Some(v2.len() as u64));
    assert_eq!(
        get(&other, "r/v3.zip").await,
        v3,
        "a cold instance reads it back"
    );
    assert_eq!(get(&other, "r/v2.zip").await, v2);
}
