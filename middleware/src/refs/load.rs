//! Loading references: from the cache, else from the backend, checked by SHA-256.

use bytes::Bytes;
use deltaglider_codec::{Sha256, Sha256Digest};
use http::{Method, StatusCode};

use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::s3::error::S3Error;
use crate::state::cache::CachedRef;

/// A reference body with its SHA-256.
pub(crate) type Reference = CachedRef;

/// Loads a reference: from the cache, else from the backend. `Ok(None)` only when the
/// backend says it does not exist; any other failure is an error, never "absent".
pub(crate) async fn load<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    expected: Option<&Sha256Digest>,
) -> Result<Option<Reference>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
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
