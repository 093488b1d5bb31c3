//! Reading a payload delta of a gzip object: the archive is rebuilt whole (payload delta
//! decoded, payload recompressed by its recipe), checked against its SHA-256, and kept in
//! the rebuilt-archive cache, which later reads of the same object are served from.

use bytes::Bytes;

use super::delta::{cannot_reconstruct, load_reference, original_len};
use crate::call::{Backend, Call, Stopped};
use crate::state::cache::Rebuilt;
use crate::state::metrics::Stopwatch;
use crate::stored::meta::{ObjectMeta, PayloadDelta};
use crate::stored::payload;

/// The original archive of `key`, stored as payload delta `delta` described by `info`.
pub(super) async fn archive<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: &Bytes,
    info: PayloadDelta,
) -> Result<Bytes, Stopped<T>> {
    let Call {
        shared,
        bucket,
        key,
        ..
    } = call;
    // The metadata was just read from the backend: an entry with its SHA-256 is this object.
    if let Some(hit) = shared.rebuilt.get(bucket, key)
        && hit.sha256 == meta.file_sha256
    {
        return Ok(hit.bytes);
    }
    let reference = load_reference(call, meta).await?;
    let expected_len = original_len(key, meta, delta)?;
    let stopwatch = Stopwatch::start();
    let (body, sha256, max) = (
        delta.clone(),
        meta.file_sha256,
        shared.config.max_payload_size,
    );
    let whole = shared
        .config
        .offload
        .run_or_fail(move || {
            if info.payload_size > max {
                return Err(format!(
                    "its payload ({} bytes) exceeds this layer's max_payload_size ({max})",
                    info.payload_size
                ));
            }
            let payload = reference
                .payload(max)
                .ok_or("the reference has no gzip payload within max_payload_size")?;
            payload::decode(
                &reference.bytes,
                payload,
                &body,
                info,
                expected_len,
                &sha256,
            )
        })
        .await?
        .map_err(|e| cannot_reconstruct(key, e))?;
    shared
        .counters
        .decoded(stopwatch.micros(), whole.len() as u64);
    let whole = Bytes::from(whole);
    shared.rebuilt.insert(
        bucket,
        key,
        Rebuilt {
            bytes: whole.clone(),
            sha256: meta.file_sha256,
        },
    );
    Ok(whole)
}
