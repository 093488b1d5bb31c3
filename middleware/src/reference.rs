//! Finding, seeding and caching deltaspace references.

use bytes::Bytes;
use deltaglider_codec::{Sha256, Sha256Digest};
use http::{Method, StatusCode};

use crate::cache::CachedRef;
use crate::delta::Shared;
use crate::error::S3Error;
use crate::inner::{ByteBody, Inner, InnerS3, Stop, pass_error};
use crate::meta::{Kind, ObjectMeta};
use crate::store::add_metadata;
use crate::time;

/// A reference body with its SHA-256.
pub(crate) type Reference = CachedRef;

/// Loads a reference: from the cache, else from the backend. `Ok(None)` only when the
/// backend says it does not exist; any other failure is an error, never "absent".
pub(crate) async fn load<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    ref_key: &str,
    expected: Option<&Sha256Digest>,
) -> Result<Option<Reference>, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let found = match shared.cache.get(bucket, ref_key) {
        Some(cached) => cached,
        None => {
            let fetched = inner
                .fetch(
                    inner.request(Method::GET, bucket, ref_key, ""),
                    Bytes::new(),
                    shared.config.max_object_size,
                )
                .await?;
            if fetched.status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !fetched.status.is_success() {
                return Err(pass_error(fetched));
            }
            let sha256 = Sha256::digest(&fetched.body);
            if let Some(stored) = fetched.meta("dg-file-sha256")
                && stored.parse::<Sha256Digest>().ok() != Some(sha256)
            {
                return Err(S3Error::internal(format!(
                    "reference {ref_key} is corrupt: its SHA-256 is {sha256}, its metadata says {stored}"
                ))
                .into());
            }
            let reference = Reference::new(fetched.body, sha256);
            shared.cache.insert(bucket, ref_key, reference.clone());
            reference
        }
    };
    if let Some(expected) = expected.filter(|e| **e != found.sha256) {
        return Err(S3Error::internal(format!(
            "reference {ref_key} has SHA-256 {}, the delta was made against {expected}",
            found.sha256
        ))
        .into());
    }
    Ok(Some(found))
}

/// The reference a PUT of `source_key` encodes against. If the deltaspace has none yet,
/// the upload itself seeds it with a conditional create; when another writer wins that
/// race, its reference is used.
pub(crate) async fn for_put<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    ref_key: &str,
    source_key: &str,
    data: &Bytes,
) -> Result<Reference, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    if let Some(existing) = load(shared, inner, bucket, ref_key, None).await? {
        return Ok(existing);
    }
    let sha256 = &Sha256::digest(data);
    let created = create(inner, bucket, ref_key, source_key, data, sha256).await?;
    match created.status {
        s if s.is_success() => {
            let reference = Reference::new(data.clone(), *sha256);
            shared.cache.insert(bucket, ref_key, reference.clone());
            tracing::info!(bucket, ref_key, bytes = data.len(), "seeded reference");
            Ok(reference)
        }
        // Another writer created it first (409 is S3's answer while a racing create is in
        // flight): use theirs.
        StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => {
            load(shared, inner, bucket, ref_key, None)
                .await?
                .ok_or_else(|| {
                    S3Error::internal(format!(
                        "reference {ref_key} exists by the backend's account but cannot be read"
                    ))
                    .into()
                })
        }
        _ => Err(pass_error(created)),
    }
}

/// Creates `ref_key` with `data` unless it exists (`If-None-Match: *`); the backend's answer.
pub(crate) async fn create<S, B, RB>(
    inner: &Inner<S>,
    bucket: &str,
    ref_key: &str,
    source_key: &str,
    data: &Bytes,
    sha256: &Sha256Digest,
) -> Result<crate::inner::Fetched, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let meta = ObjectMeta {
        kind: Kind::Reference,
        tool: format!("deltaglider-rs/{}", env!("CARGO_PKG_VERSION")),
        file_sha256: *sha256,
        file_size: Some(data.len() as u64),
        md5: None,
        multipart_etag: None,
        created_at: time::rfc3339_micros(inner.now_micros()),
        original_name: None,
        source_name: Some(source_key.to_owned()),
        reference: None,
        delta_size: None,
        checksums: Vec::new(),
        gzip: None,
    };
    let mut request = inner
        .request(Method::PUT, bucket, ref_key, "")
        .header("if-none-match", "*")
        .header("content-type", "application/octet-stream");
    if let Some(headers) = request.headers_mut() {
        add_metadata(headers, &meta)?;
    }
    inner.fetch(request, data.clone(), 64 << 10).await
}

/// Called after a delta naming `reference` was written: makes sure that reference still
/// exists, re-creating it from memory if a concurrent removal of the deltaspace's last delta
/// deleted it. `Ok(false)` when a *different* reference now sits there: the new delta must
/// not be kept.
pub(crate) async fn ensure_after_write<S, B, RB>(
    inner: &Inner<S>,
    bucket: &str,
    ref_key: &str,
    source_key: &str,
    reference: &Reference,
) -> Result<bool, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
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
                    inner,
                    bucket,
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

/// How often the layer's own listings are tried on server errors.
const LIST_ATTEMPTS: u32 = 4;

/// One page of the backend's listing of `prefix`, one level deep (delimiter `/`).
pub(crate) async fn list_page<S, B, RB>(
    inner: &Inner<S>,
    bucket: &str,
    prefix: &str,
    token: Option<&str>,
) -> Result<crate::list::Page, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let mut query = format!(
        "list-type=2&delimiter=%2F&prefix={}",
        crate::list::query_value(prefix)
    );
    if let Some(t) = token {
        query.push_str("&continuation-token=");
        query.push_str(&crate::list::query_value(t));
    }
    // A listing is idempotent: a server error is retried a few times before the request
    // it serves fails (some backends fail a listing that meets a concurrent delete).
    let mut attempt = 0;
    loop {
        attempt += 1;
        let page = inner
            .fetch(
                inner.request(Method::GET, bucket, "", &query),
                Bytes::new(),
                64 << 20,
            )
            .await?;
        if page.status.is_success() {
            return Ok(crate::list::parse_page(&page.body)?);
        }
        if !page.status.is_server_error() || attempt == LIST_ATTEMPTS {
            return Err(pass_error(page));
        }
        tracing::debug!(
            bucket,
            prefix,
            status = page.status.as_u16(),
            "listing failed; retrying"
        );
    }
}
