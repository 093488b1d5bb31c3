//! Seeding a deltaspace from a large object: the object read once by ranges (its SHA-256,
//! and its delta against itself), then a server-side multipart copy of it to `reference.bin` (parts pinned to the object's ETag
//! by `x-amz-copy-source-if-match`), completed only if no reference exists
//! (`If-None-Match: *`). A writer that loses that race uses the winner's reference.

use deltaglider_codec::Sha256Digest;
use http::{HeaderMap, HeaderValue, header};

use super::parts::{Encoded, Found, Whole};
use super::upload::Upload;
use super::{choose, encode};
use crate::call::{Backend, Call, Stopped};
use crate::s3::error::S3Error;
use crate::s3::time;
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
    let headers = reference_headers(call, whole, &encoded.sha256)?;
    let mut upload = Upload::create(call, &ref_key, headers).await?;
    match copy_and_complete(call, &mut upload, whole).await {
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
            upload.abort(call).await;
            Ok(choose::reference(call, whole)
                .await?
                .map_or(Seeded::Unknown, Seeded::Theirs))
        }
        Err(stopped) => {
            upload.abort(call).await;
            Err(stopped)
        }
    }
}

/// The headers of the reference made from `whole`: its metadata.
fn reference_headers<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    sha256: &Sha256Digest,
) -> Result<HeaderMap, S3Error> {
    let Call { inner, key, .. } = call;
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
        ref_seq: 0,
        checksums: Vec::new(),
        payload_delta: None,
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    add_metadata(&mut headers, &meta)?;
    Ok(headers)
}

/// Copies `whole` into the upload part by part and completes it unless the reference
/// exists: `Ok(false)` then.
async fn copy_and_complete<T: Backend>(
    call: Call<'_, T>,
    upload: &mut Upload,
    whole: &Whole,
) -> Result<bool, Stopped<T>> {
    let part = PART.max(whole.size.div_ceil(10_000));
    let mut at = 0;
    while at < whole.size {
        let end = (at + part).min(whole.size);
        upload.copy(call, call.key, at..end, &whole.etag).await?;
        at = end;
    }
    upload.complete(call, true).await
}
