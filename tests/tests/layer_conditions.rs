//! Conditional and versioned deletes through the layer (the real `aws-sdk-s3` client,
//! in-process, over `s3s-fs`): a condition that does not hold, or a version the storage
//! format cannot address, changes nothing stored.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use deltaglider_codec::Sha256;
use deltaglider_tests::scenario::{edit, get, noise, put, releases, stored};

fn object(key: &str) -> aws_sdk_s3::types::builders::ObjectIdentifierBuilder {
    ObjectIdentifier::builder().key(key)
}

async fn delete_objects(
    s3: &aws_sdk_s3::Client,
    objects: Vec<ObjectIdentifier>,
) -> aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput {
    s3.delete_objects()
        .bucket("releases")
        .delete(
            Delete::builder()
                .set_objects(Some(objects))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("DeleteObjects")
}

#[tokio::test]
async fn a_condition_that_does_not_hold_deletes_nothing() {
    let (root, s3, _layer) = releases("layer-conditions").await;
    let v1 = noise(21, 1 << 20);
    let v2 = edit(&v1, 22);
    put(&s3, "app/v1.zip", &v1).await;
    let etag = put(&s3, "app/v2.zip", &v2)
        .await
        .e_tag()
        .expect("etag")
        .to_owned();
    put(&s3, "app/notes.txt", b"notes").await;
    assert!(stored(&root, "app/v2.zip.delta").is_some());

    // DeleteObject: If-Match and x-amz-if-match-size, against the original's ETag and size.
    for (if_match, size) in [(Some("\"0123\""), None), (None, Some(7_i64))] {
        let e = s3
            .delete_object()
            .bucket("releases")
            .key("app/v2.zip")
            .set_if_match(if_match.map(str::to_owned))
            .set_if_match_size(size)
            .send()
            .await
            .expect_err("precondition");
        let e = e.into_service_error();
        assert_eq!(e.meta().code(), Some("PreconditionFailed"));
        assert!(stored(&root, "app/v2.zip.delta").is_some(), "delta removed");
        assert!(Sha256::digest(&get(&s3, "app/v2.zip").await) == Sha256::digest(&v2));
    }

    // DeleteObjects: per-object <ETag> and <Size>; a failing object keeps its bytes, the
    // others of the batch go.
    let out = delete_objects(
        &s3,
        vec![
            object("app/v2.zip").e_tag("\"bad\"").build().expect("o"),
            object("app/v1.zip").size(3).build().expect("o"),
            object("app/notes.txt").e_tag("*").build().expect("o"),
        ],
    )
    .await;
    let codes: Vec<_> = out
        .errors()
        .iter()
        .map(|e| (e.key().unwrap_or(""), e.code().unwrap_or("")))
        .collect();
    assert_eq!(
        codes,
        [
            ("app/v2.zip", "PreconditionFailed"),
            ("app/v1.zip", "PreconditionFailed")
        ]
    );
    assert_eq!(out.deleted().len(), 1);
    assert!(stored(&root, "app/notes.txt").is_none());
    assert!(Sha256::digest(&get(&s3, "app/v1.zip").await) == Sha256::digest(&v1));
    assert!(Sha256::digest(&get(&s3, "app/v2.zip").await) == Sha256::digest(&v2));

    // Conditions that hold delete.
    let out = delete_objects(
        &s3,
        vec![
            object("app/v2.zip").e_tag(&etag).build().expect("o"),
            object("app/v1.zip")
                .size(v1.len() as i64)
                .build()
                .expect("o"),
        ],
    )
    .await;
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    assert!(stored(&root, "app/v2.zip.delta").is_none());
    assert!(stored(&root, "app/v1.zip.delta").is_none());
    // A missing key is deleted whatever the condition, as S3 does.
    s3.delete_object()
        .bucket("releases")
        .key("app/v2.zip")
        .if_match("\"bad\"")
        .send()
        .await
        .expect("missing key");
}

#[tokio::test]
async fn versions_of_delta_keys_are_not_implemented_and_change_nothing() {
    let (root, s3, _layer) = releases("layer-versions").await;
    let v1 = noise(23, 1 << 20);
    put(&s3, "app/v1.zip", &v1).await;

    let e = s3
        .delete_object()
        .bucket("releases")
        .key("app/v1.zip")
        .version_id("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
        .send()
        .await
        .expect_err("versioned delete");
    assert_eq!(e.into_service_error().meta().code(), Some("NotImplemented"));
    let e = s3
        .get_object()
        .bucket("releases")
        .key("app/v1.zip")
        .version_id("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
        .send()
        .await
        .expect_err("versioned get");
    assert_eq!(e.into_service_error().meta().code(), Some("NotImplemented"));
    let out = delete_objects(
        &s3,
        vec![
            object("app/v1.zip")
                .version_id("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
                .build()
                .expect("o"),
        ],
    )
    .await;
    assert_eq!(out.errors()[0].code(), Some("NotImplemented"));
    assert!(stored(&root, "app/v1.zip.delta").is_some());
    assert!(Sha256::digest(&get(&s3, "app/v1.zip").await) == Sha256::digest(&v1));
}
