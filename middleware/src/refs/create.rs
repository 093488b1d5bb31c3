//! Creating references: always conditionally (`If-None-Match: *`), never overwriting one;
//! a deltaspace's first seeded by the upload that finds none; one a concurrent clean-up
//! removed under a new delta re-created.

use bytes::Bytes;
use deltaglider_codec::{Sha256, Sha256Digest};
use http::{Method, StatusCode};

use super::load::{Reference, load};
use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, pass_error};
use crate::s3::error::S3Error;
use crate::s3::time;
use crate::stored::meta::{Kind, ObjectMeta, RefInfo, add_metadata};

/// Creates `ref_key` with `data` unless it exists (`If-None-Match: *`); the backend's answer.
pub(crate) async fn create<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    source_key: &str,
    data: &Bytes,
    sha256: &Sha256Digest,
) -> Result<Fetched, Stopped<T>> {
    let meta = reference_meta(call, source_key, data.len() as u64, sha256);
    put_new(call, ref_key, &meta, data.clone()).await
}

/// Creates `ref_key` as `delta`, a delta of reference `base` (format version 3), holding
/// `len` bytes with SHA-256 `sha256` once decoded; `seq` is its place in the chain. Unless
/// it exists (`If-None-Match: *`); the backend's answer.
pub(crate) async fn create_chained<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    source_key: &str,
    delta: &Bytes,
    (len, sha256): (u64, &Sha256Digest),
    base: RefInfo,
    seq: u64,
) -> Result<Fetched, Stopped<T>> {
    let mut meta = reference_meta(call, source_key, len, sha256);
    meta.reference = Some(base);
    meta.ref_seq = seq;
    meta.delta_size = Some(delta.len() as u64);
    put_new(call, ref_key, &meta, delta.clone()).await
}

/// The metadata of a reference seeded or renewed by the upload of `source_key`.
fn reference_meta<T: Backend>(
    call: Call<'_, T>,
    source_key: &str,
    len: u64,
    sha256: &Sha256Digest,
) -> ObjectMeta {
    ObjectMeta {
        kind: Kind::Reference,
        tool: format!("deltaglider-rs/{}", env!("CARGO_PKG_VERSION")),
        file_sha256: *sha256,
        file_size: Some(len),
        md5: None,
        multipart_etag: None,
        created_at: time::rfc3339_micros(call.inner.now_micros()),
        original_name: None,
        source_name: Some(source_key.to_owned()),
        reference: None,
        delta_size: None,
        ref_seq: 0,
        checksums: Vec::new(),
        payload_delta: None,
    }
}

/// PUTs `body` to `ref_key` with `meta`, only if nothing is there.
async fn put_new<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    meta: &ObjectMeta,
    body: Bytes,
) -> Result<Fetched, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let mut request = inner
        .request(Method::PUT, bucket, ref_key, "")
        .header("if-none-match", "*")
        .header("content-type", "application/octet-stream");
    if let Some(headers) = request.headers_mut() {
        add_metadata(headers, meta)?;
    }
    inner.fetch(request, body, 64 << 10).await
}

/// Called after a delta naming `reference` was written: makes sure that reference still
/// exists, re-creating it from memory if a concurrent removal of the deltaspace's last delta
/// deleted it. `Ok(false)` when a *different* reference now sits there: the new delta must
/// not be kept.
pub(crate) async fn ensure_after_write<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    source_key: &str,
    reference: &Reference,
) -> Result<bool, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    for _ in 0..3 {
        let head = inner.head(bucket, ref_key).await?;
        match head.status {
            s if s.is_success() => {
                let stored = head.meta("dg-file-sha256").and_then(|v| v.parse().ok());
                return Ok(stored.is_none_or(|sha: Sha256Digest| sha == reference.sha256));
            }
            StatusCode::NOT_FOUND => {
                tracing::warn!(
                    bucket,
                    ref_key,
                    "reference vanished under a new delta; re-creating it"
                );
                let created = create(
                    call,
                    ref_key,
                    source_key,
                    &reference.bytes,
                    &reference.sha256,
                )
                .await?;
                if created.status.is_success() {
                    return Ok(true);
                }
                if !matches!(
                    created.status,
                    StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT
                ) {
                    return Err(pass_error(created));
                }
            }
            _ => return Err(pass_error(head)),
        }
    }
    Err(S3Error::new(
        "SlowDown",
        StatusCode::SERVICE_UNAVAILABLE,
        "the deltaspace reference is changing concurrently; retry",
    )
    .into())
}

/// Whether reference `ref_key` exists and records SHA-256 `sha256`: after a delta encoded
/// by ranges was written (nothing in memory to re-create the reference from). `false`
/// when it is gone or another one sits there; a backend error is an error.
pub(crate) async fn holds<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    sha256: &Sha256Digest,
) -> Result<bool, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let head = inner.head(bucket, ref_key).await?;
    match head.status {
        s if s.is_success() => Ok(head
            .meta("dg-file-sha256")
            .and_then(|v| v.parse::<Sha256Digest>().ok())
            .is_some_and(|stored| stored == *sha256)),
        StatusCode::NOT_FOUND => Ok(false),
        _ => Err(pass_error(head)),
    }
}

/// The reference a PUT of `source_key` encodes against. If the deltaspace has none yet,
/// the upload itself seeds it with a conditional create; when another writer wins that
/// race, its reference is used. `None` when the reference is larger than
/// `max_object_size` (a large object seeded it): it cannot be held to encode against.
/// `listed_absent`: a listing just found no reference, so its size need not be asked.
/// With the reference, whether this call created it.
pub(crate) async fn load_or_seed<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    source_key: &str,
    data: &Bytes,
    listed_absent: bool,
) -> Result<Option<(Reference, bool)>, Stopped<T>> {
    let Call { shared, bucket, .. } = call;
    if !listed_absent
        && shared.cache.get(bucket, ref_key).is_none()
        && too_large(call, ref_key).await?
    {
        return Ok(None);
    }
    if let Some(existing) = load(call, ref_key, None).await? {
        return Ok(Some((existing, false)));
    }
    let sha256 = &Sha256::digest(data);
    let created = create(call, ref_key, source_key, data, sha256).await?;
    match created.status {
        s if s.is_success() => {
            let reference = Reference::new(data.clone(), *sha256);
            shared.cache.insert(bucket, ref_key, reference.clone());
            tracing::info!(bucket, ref_key, bytes = data.len(), "seeded reference");
            Ok(Some((reference, true)))
        }
        // Another writer created it first (409 is S3's answer while a racing create is in
        // flight): use theirs.
        StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => {
            if too_large(call, ref_key).await? {
                return Ok(None);
            }
            let theirs = load(call, ref_key, None).await?.ok_or_else(|| {
                S3Error::internal(format!(
                    "reference {ref_key} exists by the backend's account but cannot be read"
                ))
            })?;
            Ok(Some((theirs, false)))
        }
        _ => Err(pass_error(created)),
    }
}

/// Whether `ref_key` exists and is larger than `max_object_size` (by a HEAD).
async fn too_large<T: Backend>(call: Call<'_, T>, ref_key: &str) -> Result<bool, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let head = inner.head(bucket, ref_key).await?;
    match head.status {
        s if s.is_success() => Ok(head
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > shared.config.max_object_size)),
        StatusCode::NOT_FOUND => Ok(false),
        _ => Err(pass_error(head)),
    }
}
