//! Encoding a large object chunk by chunk: the object read by ranges (pinned by its ETag)
//! and hashed in order, each chunk's reference segment read from the cache or by ranges
//! beside it, chunks planned in order and encoded — then decoded against the same bytes
//! and compared with the chunk — on `encode_threads` threads at once.

use bytes::Bytes;
use deltaglider_codec::{
    ChunkPlan, EncodeOptions, EncodedChunk, Md5, Md5Digest, Sha256, Sha256Digest, WindowedEncoder,
};
use futures_util::StreamExt;
use futures_util::future::join;
use futures_util::stream::FuturesOrdered;

use super::parts::{Encoded, Found, Whole};
use crate::body::BodyError;
use crate::call::{Backend, Call, Stopped};
use crate::compat::BoxFuture;
use crate::ops::get::{fetch_range, open_reference};
use crate::s3::error::S3Error;
use crate::state::metrics::Stopwatch;

/// Chunks of the object requested ahead of the one being planned.
const READ_AHEAD: usize = 4;

/// Encodes `whole` against `reference` — or, with `None`, against itself (for a reference
/// about to be copied from it: every chunk a copy of the same place, read once). `None`
/// when the delta grows past the limit (`max_delta_ratio` of the object, and
/// `max_object_size`): the object stays whole.
pub(super) async fn encode<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    reference: Option<&Found>,
) -> Result<Option<Encoded>, Stopped<T>> {
    let Call {
        shared,
        bucket,
        key,
        ..
    } = call;
    let config = &shared.config;
    let limit = ((whole.size as f64 * config.max_delta_ratio) as u64).min(config.max_object_size);
    let options = EncodeOptions::default()
        .backend(config.backend)
        .level(config.level);
    let (reference_len, margin) =
        reference.map_or((whole.size, 0), |r| (r.len, config.large_margin));
    let mut encoder = WindowedEncoder::new(reference_len, &options)
        .chunk(config.large_chunk)
        .margin(margin);
    let mut chunks = Chunks::new(call, whole, encoder.chunk_size() as u64);
    let mut source = match reference {
        Some(r) => Some(open_reference(call, &r.key, &r.sha256).await?),
        None => None,
    };
    let (mut sha256, mut md5) = (Sha256::new(), Md5::new());
    let mut delta = Vec::new();
    let mut pending = FuturesOrdered::new();
    let stopwatch = Stopwatch::start();
    let mut at = 0;
    loop {
        while pending.len() < config.encode_threads && at < whole.size {
            let len = chunks.chunk.min(whole.size - at);
            // The chunk and its segment (which the previous plan placed) read at once.
            let range = encoder.segment_for(len as usize);
            let (piece, segment) = match source.as_mut() {
                Some(source) => {
                    let (piece, segment) = join(chunks.next(), source.read(range)).await;
                    (piece.map_err(failed)?, segment.map_err(failed)?)
                }
                // Against itself without margins: the segment is the chunk.
                None => {
                    let piece = chunks.next().await.map_err(failed)?;
                    (piece.clone(), piece)
                }
            };
            sha256.update(&piece);
            md5.update(&piece);
            let plan = encoder.plan(&piece, &segment).map_err(failed)?;
            pending.push_back(config.offload.run_or_fail(job(plan, piece, segment)));
            at += len;
        }
        let Some(done) = pending.next().await else {
            break;
        };
        encoder
            .append(done?.map_err(failed)?, &mut delta)
            .map_err(failed)?;
        if delta.len() as u64 > limit {
            tracing::debug!(bucket, key, limit, "large delta over its limit");
            return Ok(None);
        }
    }
    encoder.finish(&mut delta).map_err(failed)?;
    shared.counters.encoded(stopwatch.micros());
    Ok(finished(call, whole, delta, sha256.finish(), md5.finish()))
}

/// A failure while encoding: the object stays whole.
fn failed(e: impl std::fmt::Display) -> S3Error {
    S3Error::internal(format!("large delta: {e}"))
}

/// One chunk's work, off the executor: encoded, then decoded against the same bytes and
/// compared with the chunk — nothing is stored that does not read back.
fn job(
    plan: ChunkPlan,
    piece: Bytes,
    segment: Bytes,
) -> impl FnOnce() -> deltaglider_codec::Result<EncodedChunk> + Send + 'static {
    move || {
        let encoded = plan.encode(&piece, &segment)?;
        plan.verify(&encoded, &piece, &segment)?;
        Ok(encoded)
    }
}

/// The encoding of `whole`, unless its ETag is not the MD5 a plain S3 gives it.
fn finished<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    delta: Vec<u8>,
    sha256: Sha256Digest,
    md5: Md5Digest,
) -> Option<Encoded> {
    let Call { bucket, key, .. } = call;
    if whole.multipart_etag.is_none() && whole.etag.trim_matches('"') != md5.to_hex() {
        // A backend whose ETag is not the MD5 (encryption, say): a delta would change the
        // ETag clients see. It stays whole.
        tracing::info!(bucket, key, "the object's ETag is not its MD5: kept whole");
        return None;
    }
    Some(Encoded {
        delta: Bytes::from(delta),
        sha256,
        md5,
    })
}

/// The object's chunks in order, each fetched by a ranged GET pinned by the object's ETag;
/// several requested ahead (every request in flight is served while any is awaited).
struct Chunks<'a, T: Backend> {
    call: Call<'a, T>,
    whole: &'a Whole,
    chunk: u64,
    requested: u64,
    reads: FuturesOrdered<BoxFuture<'a, Result<Bytes, BodyError>>>,
}

impl<'a, T: Backend> Chunks<'a, T> {
    fn new(call: Call<'a, T>, whole: &'a Whole, chunk: u64) -> Self {
        Self {
            call,
            whole,
            chunk,
            requested: 0,
            reads: FuturesOrdered::new(),
        }
    }

    /// The next chunk.
    async fn next(&mut self) -> Result<Bytes, BodyError> {
        let Call {
            inner, bucket, key, ..
        } = self.call;
        let whole = self.whole;
        while self.reads.len() < READ_AHEAD && self.requested < whole.size {
            let wanted = self.requested..(self.requested + self.chunk).min(whole.size);
            self.requested = wanted.end;
            let etag = Some(whole.etag.as_str());
            self.reads.push_back(Box::pin(fetch_range::<T>(
                inner, bucket, key, whole.size, etag, wanted,
            )));
        }
        self.reads
            .next()
            .await
            .unwrap_or_else(|| Err(BodyError::new("read past the object's end")))
    }
}
