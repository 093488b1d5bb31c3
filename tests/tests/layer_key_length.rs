//! S3 keys are at most 1024 bytes: longer ones are refused (`KeyTooLongError`) for every
//! operation, before the backend sees them.

use aws_sdk_s3::primitives::ByteStream;
use deltaglider_tests::scenario::releases;

#[tokio::test]
async fn keys_over_1024_bytes_are_key_too_long() {
    let (root, s3, _) = releases("layer-key-length").await;
    for key in ["k".repeat(1025), format!("dir/{}.zip", "k".repeat(1100))] {
        let put = s3
            .put_object()
            .bucket("releases")
            .key(&key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect_err("too long");
        let code = put.raw_response().map(|r| r.status().as_u16());
        assert_eq!(code, Some(400), "{put:?}");
        assert_eq!(
            aws_sdk_s3::error::ProvideErrorMetadata::code(&put),
            Some("KeyTooLongError")
        );
        let get = s3
            .get_object()
            .bucket("releases")
            .key(&key)
            .send()
            .await
            .expect_err("too long");
        assert_eq!(
            aws_sdk_s3::error::ProvideErrorMetadata::code(&get),
            Some("KeyTooLongError")
        );
        let multipart = s3
            .create_multipart_upload()
            .bucket("releases")
            .key(&key)
            .send()
            .await
            .expect_err("too long");
        assert_eq!(
            aws_sdk_s3::error::ProvideErrorMetadata::code(&multipart),
            Some("KeyTooLongError")
        );
    }
    let stored: Vec<_> = std::fs::read_dir(root.join("releases"))
        .expect("bucket")
        .collect();
    assert!(stored.is_empty(), "{stored:?}");
    let _ = std::fs::remove_dir_all(root);
}
