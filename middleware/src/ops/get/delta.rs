//! What every way of reading a stored delta needs: the reference it names, the length of
//! the original it encodes, and the failure that says which object could not be rebuilt.

use http::StatusCode;

use crate::call::{Backend, Call, Stopped};
use crate::refs::load::{self, Reference};
use crate::s3::error::S3Error;
use crate::stored::keys;
use crate::stored::meta::{ObjectMeta, RefInfo};

/// The error answered when `key` cannot be rebuilt from its delta: the stored bytes, not
/// the request, are at fault.
pub(super) fn cannot_reconstruct(key: &str, cause: impl std::fmt::Display) -> S3Error {
    S3Error::internal(format!("cannot reconstruct {key}: {cause}"))
}

/// The length of the original: recorded in the metadata, or declared by the delta.
pub(super) fn original_len(key: &str, meta: &ObjectMeta, delta: &[u8]) -> Result<u64, S3Error> {
    match meta.file_size {
        Some(size) => Ok(size),
        None => declared_len(key, delta),
    }
}

/// The length of the original as the delta's header declares it.
pub(super) fn declared_len(key: &str, delta: &[u8]) -> Result<u64, S3Error> {
    deltaglider_codec::declared_target_len(delta).map_err(|e| cannot_reconstruct(key, e))
}

/// The reference a delta names in its metadata.
pub(super) fn reference_of<'m>(key: &str, meta: &'m ObjectMeta) -> Result<&'m RefInfo, S3Error> {
    meta.reference
        .as_ref()
        .ok_or_else(|| S3Error::internal(format!("{} names no reference", keys::delta_key(key))))
}

/// The whole reference a delta names (from the cache or one GET), checked against the
/// SHA-256 the delta records.
pub(super) async fn load_reference<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
) -> Result<Reference, Stopped<T>> {
    let Call { key, .. } = call;
    let ref_info = reference_of(key, meta)?;
    load::load(call, &ref_info.key, Some(&ref_info.sha256))
        .await?
        .ok_or_else(|| {
            S3Error::internal(format!(
                "reference {} of {} is missing",
                ref_info.key,
                keys::delta_key(key)
            ))
            .into()
        })
}

/// A copy source (or part of one) larger than the layer rebuilds in memory.
pub(super) fn too_large_to_copy(len: u64, limit: u64) -> S3Error {
    S3Error::new(
        "InvalidRequest",
        StatusCode::BAD_REQUEST,
        format!(
            "The copy source is stored as a delta and is {len} bytes, more than this \
             deployment rebuilds in memory ({limit} bytes, max_object_size): copy it with \
             UploadPartCopy in ranges of at most that size"
        ),
    )
}
