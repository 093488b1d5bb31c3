//! Multipart uploads and checksums: the real `aws-sdk-s3` client against `DeltaLayer` over
//! an `s3s-fs` backend, in-process.

use aws_sdk_s3::primitives::ByteStream;
use deltaglider_tests::scenario::{edit, get, noise, put, releases, stored};

#[tokio::test]
async fn multipart_uploads_become_deltas_and_keep_their_etag() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let (root, s3, _layer) = releases("layer-sdk-multipart").await;
    let v1 = noise(11, 6 << 20);
    let v2 = edit(&v1, 12);
    put(&s3, "big/v1.zip", &v1).await;

    let upload = s3
        .create_multipart_upload()
        .bucket("releases")
        .key("big/v2.zip")
        .content_type("application/zip")
        .metadata("build", "mp")
        .send()
        .await
        .expect("create upload");
    let id = upload.upload_id().expect("upload id");
    let mut completed = Vec::new();
    for (n, chunk) in v2.chunks(5 << 20).enumerate() {
        let number = n as i32 + 1;
        let part = s3
            .upload_part()
            .bucket("releases")
            .key("big/v2.zip")
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .expect("upload part");
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build(),
        );
    }
    let done = s3
        .complete_multipart_upload()
        .bucket("releases")
        .key("big/v2.zip")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let etag = done.e_tag().expect("multipart ETag").to_owned();
    assert!(etag.ends_with("-2\""), "{etag}");

    let delta = stored(&root, "big/v2.zip.delta").expect("stored as a delta");
    assert!(delta < v2.len() as u64 / 50);
    assert!(
        stored(&root, "big/v2.zip").is_none(),
        "the assembled object was replaced"
    );
    assert_eq!(get(&s3, "big/v2.zip").await, v2);
    let head = s3
        .head_object()
        .bucket("releases")
        .key("big/v2.zip")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(head.content_length(), Some(v2.len() as i64));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("build"))
            .map(String::as_str),
        Some("mp")
    );
}

#[tokio::test]
async fn checksums_are_verified_kept_and_returned() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
    let (root, s3, _layer) = releases("layer-sdk-checksums").await;
    let v1 = noise(21, 1 << 20);
    let v2 = edit(&v1, 22);
    put(&s3, "c/v1.zip", &v1).await;
    for algorithm in [
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Crc64Nvme,
    ] {
        s3.put_object()
            .bucket("releases")
            .key("c/v2.zip")
            .checksum_algorithm(algorithm.clone())
            .body(ByteStream::from(v2.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT with {algorithm:?}: {e:?}"));
        assert!(stored(&root, "c/v2.zip.delta").is_some());
        // The SDK validates the returned checksum against the body it receives.
        let got = s3
            .get_object()
            .bucket("releases")
            .key("c/v2.zip")
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("GET with checksum mode");
        let returned = got
            .checksum_crc32_c()
            .or(got.checksum_sha256())
            .or(got.checksum_crc64_nvme());
        assert!(returned.is_some(), "{algorithm:?}: no checksum returned");
        assert_eq!(got.body.collect().await.expect("body").to_vec(), v2);
    }
    let e = s3
        .put_object()
        .bucket("releases")
        .key("c/v3.zip")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from(v2.clone()))
        .send()
        .await
        .expect_err("wrong checksum");
    assert_eq!(e.into_service_error().meta().code(), Some("BadDigest"));
    assert!(stored(&root, "c/v3.zip.delta").is_none() && stored(&root, "c/v3.zip").is_none());
}

#[tokio::test]
async fn an_object_too_large_to_encode_replaces_its_older_delta() {
    use deltaglider::DeltaConfig;
    use deltaglider_tests::s3::{client, layered};
    let root = deltaglider_tests::scratch_dir("layer-sdk-too-large");
    let (service, _) = layered(&root, DeltaConfig::default().max_object_size(1 << 20));
    let s3 = client(service);
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("create bucket");
    let small = noise(51, 600_000);
    put(&s3, "big/app.zip", &small).await;
    assert!(stored(&root, "big/app.zip.delta").is_some());
    let large = noise(52, 3 << 20);
    put(&s3, "big/app.zip", &large).await;
    assert_eq!(stored(&root, "big/app.zip"), Some(large.len() as u64));
    assert!(
        stored(&root, "big/app.zip.delta").is_none(),
        "the old delta would shadow it"
    );
    assert!(
        stored(&root, "big/reference.bin").is_none(),
        "no delta left needs the reference"
    );
    assert_eq!(get(&s3, "big/app.zip").await, large);

    // The same through a multipart upload.
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    put(&s3, "big/app.zip", &small).await;
    assert!(stored(&root, "big/app.zip.delta").is_some());
    let upload = s3
        .create_multipart_upload()
        .bucket("releases")
        .key("big/app.zip")
        .send()
        .await
        .expect("create upload");
    let id = upload.upload_id().expect("upload id");
    let part = s3
        .upload_part()
        .bucket("releases")
        .key("big/app.zip")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from(large.clone()))
        .send()
        .await
        .expect("part");
    let parts = vec![
        CompletedPart::builder()
            .part_number(1)
            .set_e_tag(part.e_tag().map(str::to_owned))
            .build(),
    ];
    s3.complete_multipart_upload()
        .bucket("releases")
        .key("big/app.zip")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert!(
        stored(&root, "big/app.zip.delta").is_none(),
        "the old delta would shadow it"
    );
    assert_eq!(get(&s3, "big/app.zip").await, large);
}

#[tokio::test]
async fn part_copies_of_a_delta_copy_its_original_bytes() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let (root, s3, _layer) = releases("layer-sdk-part-copy").await;
    let v1 = noise(61, 6 << 20);
    let v2 = edit(&v1, 62);
    put(&s3, "big/v1.zip", &v1).await;
    put(&s3, "big/v2.zip", &v2).await;
    assert!(stored(&root, "big/v2.zip.delta").is_some());
    assert!(stored(&root, "big/v2.zip").is_none());

    let upload = s3
        .create_multipart_upload()
        .bucket("releases")
        .key("copies/v2.zip")
        .send()
        .await
        .expect("create upload");
    let id = upload.upload_id().expect("upload id");
    let split = 5 << 20;
    let ranges = [
        format!("bytes=0-{}", split - 1),
        format!("bytes={split}-{}", v2.len() - 1),
    ];
    let mut completed = Vec::new();
    for (n, range) in ranges.iter().enumerate() {
        let number = n as i32 + 1;
        let copied = s3
            .upload_part_copy()
            .bucket("releases")
            .key("copies/v2.zip")
            .upload_id(id)
            .part_number(number)
            .copy_source("releases/big/v2.zip")
            .copy_source_range(range)
            .send()
            .await
            .expect("upload part copy");
        let etag = copied.copy_part_result().and_then(|r| r.e_tag());
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(etag.map(str::to_owned))
                .build(),
        );
    }
    let unsatisfiable = s3
        .upload_part_copy()
        .bucket("releases")
        .key("copies/v2.zip")
        .upload_id(id)
        .part_number(3)
        .copy_source("releases/big/v2.zip")
        .copy_source_range(format!("bytes={}-{}", v2.len() + 10, v2.len() + 20))
        .send()
        .await
        .expect_err("a range past the end");
    assert_eq!(
        unsatisfiable.raw_response().map(|r| r.status().as_u16()),
        Some(416)
    );
    s3.complete_multipart_upload()
        .bucket("releases")
        .key("copies/v2.zip")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(get(&s3, "copies/v2.zip").await, v2);
}
