//! Encoding a large object chunk by chunk: the object read by ranges (pinned by its ETag)
//! and hashed in order, each chunk's reference segment read from the cache or by ranges,
//! chunks planned in order and encoded on `encode_threads` threads at once.

use bytes::Bytes;
use deltaglider_codec::{EncodeOptions, EncodedChunk, Md5, Sha256, WindowedEncoder};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;

use super::parts::{Encoded, Found, Progress, Whole};
use crate::call::{Backend, Call, Stopped};
use crate::ops::get::{RefSource, open_reference};
use crate::s3::error::S3Error;
use crate::state::metrics::Stopwatch;

/// Encodes `whole` against `reference`. `None` when the delta grows past the limit
/// (`max_delta_ratio` of the object, and `max_object_size`): the object stays whole.
pub(super) async fn encode<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    reference: &Found,
    progress: &Progress,
) -> Result<Option<Encoded>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let config = &shared.config;
    let limit = ((whole.size as f64 * config.max_delta_ratio) as u64).min(config.max_object_size);
    let options = EncodeOptions::default()
        .backend(config.backend)
        .level(config.level);
    let mut encoder = WindowedEncoder::new(reference.len, &options)
        .chunk(config.large_chunk)
        .margin(config.large_margin);
    let chunk = encoder.chunk_size() as u64;
    let mut target = RefSource::<T>::ranged(
        inner.clone(),
        bucket,
        key,
        whole.size,
        Some(whole.etag.clone()),
    );
    let mut source = open_reference(call, &reference.key, &reference.sha256).await?;
    let failed = |e: &dyn std::fmt::Display| S3Error::internal(format!("large delta: {e}"));
    let (mut sha256, mut md5) = (Sha256::new(), Md5::new());
    let mut delta = Vec::new();
    let mut pending = FuturesOrdered::new();
    let stopwatch = Stopwatch::start();
    let mut at = 0;
    loop {
        while pending.len() < config.encode_threads && at < whole.size {
            let end = (at + chunk).min(whole.size);
            let piece = target.read(at..end).await.map_err(|e| failed(&e))?;
            sha256.update(&piece);
            md5.update(&piece);
            let range = encoder.segment_for(piece.len());
            let segment = source.read(range).await.map_err(|e| failed(&e))?;
            let plan = encoder.plan(&piece, &segment).map_err(|e| failed(&e))?;
            pending.push_back(
                config
                    .offload
                    .run_or_fail(move || plan.encode(&piece, &segment)),
            );
            at = end;
        }
        let Some(done) = pending.next().await else {
            break;
        };
        let encoded: EncodedChunk = done?.map_err(|e| failed(&e))?;
        encoder
            .append(encoded, &mut delta)
            .map_err(|e| failed(&e))?;
        progress.tick();
        if delta.len() as u64 > limit {
            tracing::debug!(bucket, key, limit, "large delta over its limit");
            return Ok(None);
        }
    }
    encoder.finish(&mut delta).map_err(|e| failed(&e))?;
    shared.counters.encoded(stopwatch.micros());
    let (sha256, md5) = (sha256.finish(), md5.finish());
    if whole.multipart_etag.is_none() && whole.etag.trim_matches('"') != md5.to_hex() {
        // A backend whose ETag is not the MD5 (encryption, say): a delta would change the
        // ETag clients see. It stays whole.
        tracing::info!(bucket, key, "the object's ETag is not its MD5: kept whole");
        return Ok(None);
    }
    Ok(Some(Encoded {
        delta: Bytes::from(delta),
        sha256,
        md5,
    }))
}
