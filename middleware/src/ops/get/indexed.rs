//! Range GETs that stream: of a large stored delta (one the read did not hold, [`HOLD`]),
//! and large ranges of any delta. The delta's window index — from the cache, or built
//! from the delta (held, or the response already arriving, keeping only window headers)
//! — names the windows covering the range; their bytes (one ranged GET pinned to the
//! delta's ETag, unless held) feed a streamed decode of only those windows. So a range
//! costs its windows, not the delta, in reads, and one window, not the range, in memory.
//!
//! [`HOLD`]: super::current::HOLD

use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use deltaglider_codec::{IndexBuilder, WindowIndex};

use super::current::{DeltaBytes, StoredDelta};
use super::delta::cannot_reconstruct;
use super::pieces::DeltaPieces;
use super::stream::{self, Output};
use super::{memory, source};
use crate::body::{BodyError, Streamed};
use crate::call::{Backend, Call, Stopped};
use crate::state::cache::Indexed;
use crate::stored::keys;
use crate::stored::meta::ObjectMeta;

/// `range` of the original of `call.key` (`total` bytes), stored as `delta`, as a body
/// produced while it is sent. Each covering window is checked by its Adler-32 before it
/// is sent (the windows of a large delta always carry one; a delta whose windows do not,
/// or whose windows decode only in order, is read whole, within `max_object_size`, and
/// decoded in memory).
pub(super) async fn range<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: StoredDelta<T>,
    total: u64,
    range: Range<u64>,
) -> Result<Streamed, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let delta_key = keys::delta_key(key);
    let etag = delta.etag().map(str::to_owned);
    let len = delta.len();
    let held = match &delta.bytes {
        DeltaBytes::Held(bytes) => Some(bytes.clone()),
        DeltaBytes::Arriving { .. } => None,
    };
    let index = index_of(call, &delta_key, etag.as_deref(), delta.bytes)
        .await
        .map_err(|e| cannot_reconstruct(key, e))?;
    if index.target_len() != total {
        let mismatch = format!(
            "the delta's windows produce {} bytes, the metadata records {total}",
            index.target_len()
        );
        return Err(cannot_reconstruct(key, mismatch).into());
    }
    let covering = index.covering(range.clone());
    let (Some(first), Some(last)) = (covering.first(), covering.last()) else {
        return Err(cannot_reconstruct(key, "no window covers the range").into());
    };
    let want = first.delta_start..last.delta_range().end;
    if index.sequential() || !covering.iter().all(|w| w.checksummed) {
        // Windows that decode only in order (secondary compression, as the DeltaGlider
        // CLI's deltas use) or carry no checksum: the whole delta, within the limit.
        return from_whole(call, meta, held, (len, etag.as_deref()), range).await;
    }
    let pieces = match held {
        Some(bytes) => {
            let mut joined = BytesMut::from(index.header());
            joined.extend_from_slice(&bytes[want.start as usize..want.end as usize]);
            DeltaPieces::Held(joined.freeze())
        }
        None => {
            let (body, skip) = source::open_range::<T>(
                inner,
                bucket,
                &delta_key,
                len,
                etag.as_deref(),
                want.clone(),
            )
            .await
            .map_err(|e| cannot_reconstruct(key, e))?;
            DeltaPieces::Arriving {
                prefix: Bytes::copy_from_slice(index.header()),
                body: Box::pin(body),
                skip,
                len: want.end - want.start,
            }
        }
    };
    let output = Output {
        decoded: last.target_start + last.target_len - first.target_start,
        sha256: None,
        sent: range.start - first.target_start..range.end - first.target_start,
    };
    stream::decoded(call, meta, pieces, output).await
}

/// `range` decoded in memory from the whole delta (`held`, else read: `len` bytes with
/// ETag `etag`), which must fit in `max_object_size`.
async fn from_whole<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    held: Option<Bytes>,
    (len, etag): (u64, Option<&str>),
    range: Range<u64>,
) -> Result<Streamed, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let limit = shared.config.max_object_size;
    if len > limit {
        let why = format!("its {len}-byte delta must be read whole, over the {limit}-byte limit");
        return Err(cannot_reconstruct(key, why).into());
    }
    let whole = match held {
        Some(bytes) => bytes,
        None => {
            let delta_key = keys::delta_key(key);
            source::fetch_range::<T>(inner, bucket, &delta_key, len, etag, 0..len)
                .await
                .map_err(|e| cannot_reconstruct(key, e))?
        }
    };
    let part = memory::decode(call, meta, &whole, Some(range)).await?;
    let part_len = part.len() as u64;
    let once = futures_util::stream::once(async move { Ok::<_, BodyError>(part) });
    Ok(Streamed::new(Box::pin(once), part_len))
}

/// The window index of the stored delta `delta_key` (ETag `etag`): cached, or built from
/// `bytes` — reading them through, holding only window headers — and then cached.
async fn index_of<T: Backend>(
    call: Call<'_, T>,
    delta_key: &str,
    etag: Option<&str>,
    bytes: DeltaBytes<T>,
) -> Result<Arc<WindowIndex>, BodyError> {
    let Call { shared, bucket, .. } = call;
    if let Some(etag) = etag
        && let Some(cached) = shared.indexes.get(bucket, delta_key)
        && cached.etag == etag
    {
        return Ok(cached.index);
    }
    // The reference's length is checked when windows are decoded; the index needs only
    // the framing.
    let mut builder = IndexBuilder::new(u64::MAX);
    let mut pieces = DeltaPieces::from(bytes);
    while let Some(piece) = pieces.next().await? {
        builder.push(&piece).map_err(BodyError::new)?;
    }
    let index = Arc::new(builder.finish().map_err(BodyError::new)?);
    if let Some(etag) = etag {
        let entry = Indexed {
            etag: etag.to_owned(),
            index: Arc::clone(&index),
        };
        shared.indexes.insert(bucket, delta_key, entry);
    }
    Ok(index)
}
