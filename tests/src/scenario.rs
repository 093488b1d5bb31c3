//! Test data and one-line S3 calls shared by the `aws-sdk-s3` scenario tests. Every call
//! targets bucket `releases`.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use deltaglider::{DeltaConfig, DeltaLayer};

/// A fresh scratch directory named `name` served by the layer (default configuration) over
/// s3s-fs, a client for it, and bucket `releases` created.
pub async fn releases(name: &str) -> (std::path::PathBuf, aws_sdk_s3::Client, DeltaLayer) {
    releases_with(name, DeltaConfig::default()).await
}

/// [`releases`] with the layer configured by `config`.
pub async fn releases_with(
    name: &str,
    config: DeltaConfig,
) -> (std::path::PathBuf, aws_sdk_s3::Client, DeltaLayer) {
    let root = crate::scratch_dir(name);
    let (service, layer) = crate::s3::layered(&root, config);
    let s3 = crate::s3::client(service);
    s3.create_bucket()
        .bucket("releases")
        .send()
        .await
        .expect("create bucket");
    (root, s3, layer)
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `base` with a 64-byte patch every 50 KB and 300 bytes inserted near the start.
pub fn edit(base: &[u8], seed: u64) -> Vec<u8> {
    let mut out = base.to_vec();
    let patch = noise(seed, 64);
    for at in (1000..out.len()).step_by(50_000) {
        out[at..at + 64].copy_from_slice(&patch);
    }
    out.splice(500..500, noise(seed + 1, 300));
    out
}

/// GETs `releases/<key>`, panicking on failure.
pub async fn get(s3: &aws_sdk_s3::Client, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket("releases")
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {key}: {e:?}"))
        .body
        .collect()
        .await
        .expect("body")
        .to_vec()
}

/// GETs bytes `range` (`"bytes=a-b"`) of `releases/<key>`, panicking on failure.
pub async fn get_range(s3: &aws_sdk_s3::Client, key: &str, range: &str) -> Vec<u8> {
    s3.get_object()
        .bucket("releases")
        .key(key)
        .range(range)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {key} {range}: {e:?}"))
        .body
        .collect()
        .await
        .expect("body")
        .to_vec()
}

/// DELETEs `releases/<key>`, panicking on failure.
pub async fn delete(s3: &aws_sdk_s3::Client, key: &str) {
    s3.delete_object()
        .bucket("releases")
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DELETE {key}: {e:?}"));
}

/// PUTs `releases/<key>` as `application/zip` with metadata `build: 1234`.
pub async fn put(
    s3: &aws_sdk_s3::Client,
    key: &str,
    body: &[u8],
) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
    s3.put_object()
        .bucket("releases")
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .content_type("application/zip")
        .metadata("build", "1234")
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT {key}: {e:?}"))
}

/// Uploads `releases/<key>` as a multipart upload of `part`-byte parts, as `application/zip`
/// with metadata `build: 1234`; the multipart ETag the answer carries.
pub async fn put_multipart(s3: &aws_sdk_s3::Client, key: &str, body: &[u8], part: usize) -> String {
    let upload = s3
        .create_multipart_upload()
        .bucket("releases")
        .key(key)
        .content_type("application/zip")
        .metadata("build", "1234")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create upload {key}: {e:?}"));
    let id = upload.upload_id().expect("upload id");
    let mut parts = Vec::new();
    for (n, chunk) in body.chunks(part).enumerate() {
        let number = n as i32 + 1;
        let uploaded = s3
            .upload_part()
            .bucket("releases")
            .key(key)
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("part {number} of {key}: {e:?}"));
        parts.push((number, uploaded.e_tag().map(str::to_owned)));
    }
    complete(s3, key, id, parts).await
}

/// Completes upload `id` of `releases/<key>` with `parts` (number, ETag); the ETag the
/// answer carries.
pub async fn complete(
    s3: &aws_sdk_s3::Client,
    key: &str,
    id: &str,
    parts: Vec<(i32, Option<String>)>,
) -> String {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let parts = parts
        .into_iter()
        .map(|(number, etag)| {
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(etag)
                .build()
        })
        .collect();
    let done = s3
        .complete_multipart_upload()
        .bucket("releases")
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete {key}: {e:?}"));
    done.e_tag().expect("etag").to_owned()
}

/// Size of the stored object `releases/<key>` in the backend directory `root`, if any.
pub fn stored(root: &Path, key: &str) -> Option<u64> {
    std::fs::metadata(root.join("releases").join(key))
        .ok()
        .map(|m| m.len())
}
