//! Reconstruction in memory: the whole original (SHA-256 verified) for CopyObject,
//! multipart completion and gzip archives, or a range of it when no cheaper way applies.

use std::ops::Range;

use bytes::Bytes;
use deltaglider_codec::{Error as CodecError, decode_range, decode_verified};

use super::delta::{cannot_reconstruct, load_reference, original_len};
use super::rebuild;
use crate::call::{Backend, Call, Stopped};
use crate::state::metrics::Stopwatch;
use crate::stored::meta::ObjectMeta;

/// Reconstructs the whole original (SHA-256 verified) or, given a range, only the windows
/// covering it (each verified by its Adler-32; deltas without window checksums are decoded
/// whole and verified, then sliced).
pub(super) async fn decode<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: &Bytes,
    range: Option<Range<u64>>,
) -> Result<Bytes, Stopped<T>> {
    let Call { shared, key, .. } = call;
    if let Some(info) = meta.payload_delta {
        let whole = rebuild::archive(call, meta, delta, info).await?;
        return Ok(slice(whole, range));
    }
    let reference = load_reference(call, meta).await?;
    let expected_len = original_len(key, meta, delta)?;
    let whole = |reference: &[u8]| {
        decode_verified(reference, delta, expected_len, &meta.file_sha256).map(Bytes::from)
    };
    let stopwatch = Stopwatch::start();
    let bytes = match range {
        Some(r) => match decode_range(&reference.bytes, delta, expected_len, r.clone()) {
            Ok(part) => Ok(Bytes::from(part)),
            Err(CodecError::Unsupported { .. }) => {
                whole(&reference.bytes).map(|w| slice(w, Some(r)))
            }
            Err(e) => Err(e),
        },
        None => whole(&reference.bytes),
    }
    .map_err(|e| cannot_reconstruct(key, e))?;
    shared
        .counters
        .decoded(stopwatch.micros(), bytes.len() as u64);
    Ok(bytes)
}

/// `range` of `whole`, or all of it.
fn slice(whole: Bytes, range: Option<Range<u64>>) -> Bytes {
    match range {
        Some(r) => whole.slice(r.start as usize..r.end as usize),
        None => whole,
    }
}
