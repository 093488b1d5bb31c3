//! Seeding a deltaspace from a large object: the object read once by ranges (its SHA-256,
//! and its delta against itself), then a server-side multipart copy of it to `reference.bin` (parts pinned to the object's ETag
//! by `x-amz-copy-source-if-match`), completed only if no reference exists
//! (`If-None-Match: *`). A writer that loses that race uses the winner's reference.

use bytes::Bytes;
use deltaglider_codec::Sha256Digest;
use http::{Method, StatusCode};

use super::parts::{Encoded, Found, Whole};
use super::{choose, encode};
use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, object_path, pass_error};
use crate::s3::error::S3Error;
use crate::s3::query::query_value;
use crate::s3::time;
use crate::s3::xml::{self, Completion};
use crate::stored::keys;
use crate::stored::meta::{Kind, ObjectMeta, add_metadata};

/// The least a copied part holds (S3 allows 5 GiB; 10 000 parts at most).
const PART: u64 = 1 << 30;

/// What seeding found.
pub(super) enum Seeded {
    /// This object is the reference now; its delta against it (copies only).
    Ours(Found, Encoded),
    /// A concurrent writer's reference won the race.
    Theirs(Found),
    /// Neither could be told (or this object cannot be stored as a delta).
    Unknown,
}

/// Makes `whole` (under `call.key`) the deltaspace's `reference.bin`, or finds the one a
/// concurrent writer made first. The object is read once: its SHA-256 (which the
/// reference's metadata records) and its delta against itself come from the same pass.
pub(super) async fn seed<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
) -> Result<Seeded, Stopped<T>> {
    let Call { bucket, key, .. } = call;
    let ref_key = keys::reference_key(keys::deltaspace(key));
    let Some(encoded) = encode::encode(call, whole, None).await? else {
        return Ok(Seeded::Unknown);
    };
    let upload = create_upload(call, &ref_key, whole, &encoded.sha256).await?;
    match copy_and_complete(call, &ref_key, &upload, whole).await {
        Ok(true) => {
            tracing::info!(
                bucket,
                ref_key,
                bytes = whole.size,
                "seeded a large reference"
            );
            let found = Found {
                key: ref_key,
                sha256: encoded.sha256,
                len: whole.size,
            };
            Ok(Seeded::Ours(found, encoded))
        }
        Ok(false) => {
            abort(call, &ref_key, &upload).await;
            Ok(choose::reference(call, whole)
                .await?
                .map_or(Seeded::Unknown, Seeded::Theirs))
        }
        Err(stopped) => {
            abort(call, &ref_key, &upload).await;
            Err(stopped)
        }
    }
}

/// Starts the multipart upload of the reference, with its metadata; its upload ID.
async fn create_upload<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    whole: &Whole,
    sha256: &Sha256Digest,
) -> Result<String, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let meta = ObjectMeta {
        kind: Kind::Reference,
        tool: format!("deltaglider-rs/{}", env!("CARGO_PKG_VERSION")),
        file_sha256: *sha256,
        file_size: Some(whole.size),
        md5: None,
        multipart_etag: None,
        created_at: time::rfc3339_micros(inner.now_micros()),
        original_name: None,
        source_name: Some(key.to_owned()),
        reference: None,
        delta_size: None,
        checksums: Vec::new(),
        payload_delta: None,
    };
    let mut request = inner
        .request(Method::POST, bucket, ref_key, "uploads")
        .header("content-type", "application/octet-stream");
    if let Some(headers) = request.headers_mut() {
        add_metadata(headers, &meta)?;
    }
    let created = ok(inner.fetch(request, Bytes::new(), 64 << 10).await?)?;
    text_of(
        &created.body,
        &["InitiateMultipartUploadResult", "UploadId"],
    )
    .ok_or_else(|| S3Error::internal("the backend's multipart upload has no UploadId").into())
}

/// Copies `whole` into the upload part by part and completes it unless the reference
/// exists: `Ok(false)` then.
async fn copy_and_complete<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    upload: &str,
    whole: &Whole,
) -> Result<bool, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let part = PART.max(whole.size.div_ceil(10_000));
    let mut completion = String::from("<CompleteMultipartUpload>");
    let (mut at, mut number) = (0, 1);
    while at < whole.size {
        let end = (at + part).min(whole.size);
        let query = format!("partNumber={number}&uploadId={}", query_value(upload));
        let request = inner
            .request(Method::PUT, bucket, ref_key, &query)
            .header("x-amz-copy-source", object_path(bucket, key))
            .header("x-amz-copy-source-range", format!("bytes={at}-{}", end - 1))
            .header("x-amz-copy-source-if-match", whole.etag.as_str());
        let copied = ok(inner.fetch(request, Bytes::new(), 64 << 10).await?)?;
        let etag = text_of(&copied.body, &["CopyPartResult", "ETag"])
            .ok_or_else(|| S3Error::internal("the backend's part copy has no ETag"))?;
        completion.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
            xml::escape(&etag)
        ));
        at = end;
        number += 1;
    }
    completion.push_str("</CompleteMultipartUpload>");
    let request = inner
        .request(
            Method::POST,
            bucket,
            ref_key,
            &format!("uploadId={}", query_value(upload)),
        )
        .header("if-none-match", "*")
        .header("content-type", "application/xml");
    let completed = inner
        .fetch(request, Bytes::from(completion), 1 << 20)
        .await?;
    let exists = |code: &str| code == "PreconditionFailed" || code == "ConditionalRequestConflict";
    match completed.status {
        StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => Ok(false),
        s if !s.is_success() => Err(pass_error(completed)),
        _ => match xml::parse_completion(&completed.body) {
            Ok(Completion::Completed { .. }) => Ok(true),
            Ok(Completion::Failed { code }) if exists(&code) => Ok(false),
            Ok(Completion::Failed { code }) => Err(S3Error::internal(format!(
                "completing the reference upload failed: {code}"
            ))
            .into()),
            Err(e) => Err(S3Error::internal(e.to_string()).into()),
        },
    }
}

/// Aborts the reference upload (its parts removed); a failure is only logged.
async fn abort<T: Backend>(call: Call<'_, T>, ref_key: &str, upload: &str) {
    let Call { inner, bucket, .. } = call;
    let request = inner.request(
        Method::DELETE,
        bucket,
        ref_key,
        &format!("uploadId={}", query_value(upload)),
    );
    let aborted = inner.fetch(request, Bytes::new(), 64 << 10).await;
    if !aborted.is_ok_and(|a| a.status.is_success() || a.status == StatusCode::NOT_FOUND) {
        tracing::warn!(
            bucket,
            ref_key,
            upload,
            "aborting a reference upload failed"
        );
    }
}

/// The backend's answer when it is a success; its error passed on otherwise.
fn ok<E, RB>(fetched: Fetched) -> Result<Fetched, crate::inner::Stop<E, RB>> {
    if fetched.status.is_success() {
        Ok(fetched)
    } else {
        Err(pass_error(fetched))
    }
}

/// The text of the element at `path` in an XML answer.
fn text_of(body: &[u8], path: &[&str]) -> Option<String> {
    xml::elements(body)
        .ok()?
        .into_iter()
        .find(|e| e.is(path))
        .map(|e| e.text)
}
