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
use super::upload::Upload;
use crate::body::BodyError;
use crate::call::{Backend, Call, Stopped};
use crate::compat::BoxFuture;
use crate::ops::get::{fetch_range, open_reference};
use crate::s3::error::S3Error;
use crate::state::metrics::Stopwatch;

/// Chunks of the object requested ahead of the one being planned.
const READ_AHEAD: usize = 4;

/// Delta bytes sent to the backend per part when a second pass streams it: a 32nd of
/// `max_object_size` (16 MiB by default), at least S3's least part (5 MiB), at most 64
/// MiB. 10 000 parts at most: deltas up to 160 GiB by default.
fn part_size(max_object_size: u64) -> usize {
    (max_object_size / 32).clamp(5 << 20, 64 << 20) as usize
}

/// Where the delta goes as chunks are encoded.
pub(super) enum Sink {
    /// Held, while within `max_object_size`.
    Held(Vec<u8>),
    /// Counted only: larger than `max_object_size`, it is written by a second pass, whose
    /// metadata needs the SHA-256, MD5 and length this pass finds.
    Counted(u64),
    /// Streamed to a backend upload, a part at a time; `sent` bytes so far.
    Upload { upload: Upload, sent: u64 },
}

impl Sink {
    fn len(&self, buffer: &[u8]) -> u64 {
        buffer.len() as u64
            + match self {
                Sink::Held(_) => 0,
                Sink::Counted(n) | Sink::Upload { sent: n, .. } => *n,
            }
    }
}

/// Encodes `whole` against `reference` — or, with `None`, against itself (for a reference
/// about to be copied from it: every chunk a copy of the same place, read once). `None`
/// when the delta grows past `max_delta_ratio` of the object: the object stays whole. A
/// delta larger than `max_object_size` is not held ([`Encoded::delta`] is `None`).
pub(super) async fn encode<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    reference: Option<&Found>,
) -> Result<Option<Encoded>, Stopped<T>> {
    let Some((sink, sha256, md5)) = run(call, whole, reference, Sink::Held(Vec::new())).await?
    else {
        return Ok(None);
    };
    let (delta, len) = match sink {
        Sink::Held(delta) => {
            let len = delta.len() as u64;
            (Some(Bytes::from(delta)), len)
        }
        Sink::Counted(len) => (None, len),
        Sink::Upload { .. } => unreachable!("the first pass never uploads"),
    };
    Ok(etag_is_md5(call, whole, md5).then_some(Encoded {
        delta,
        len,
        sha256,
        md5,
    }))
}

/// The second pass for a delta too large to hold: `whole` encoded again against
/// `reference`, the delta streamed into `upload` part by part, and the upload completed
/// only if this pass made exactly what the first did (length, SHA-256 and MD5 of the
/// object); aborted otherwise, and on any failure.
pub(super) async fn stream_to<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    reference: &Found,
    upload: Upload,
    first: &Encoded,
) -> Result<(), Stopped<T>> {
    let handle = upload.clone();
    let sink = Sink::Upload { upload, sent: 0 };
    let result = run(call, whole, Some(reference), sink).await;
    let (upload, sent, same) = match result {
        Ok(Some((Sink::Upload { upload, sent }, sha256, md5))) => {
            let same = sent == first.len && sha256 == first.sha256 && md5 == first.md5;
            (upload, sent, same)
        }
        // Over the limit: `run` aborted the upload.
        Ok(_) => return Err(failed("the second pass went over the limit").into()),
        Err(stopped) => {
            handle.abort(call).await;
            return Err(stopped);
        }
    };
    if !same {
        upload.abort(call).await;
        let what = format!("the second pass made {sent} bytes, the first {}", first.len);
        return Err(failed(what).into());
    }
    match upload.complete(call, false).await {
        Ok(_) => Ok(()),
        Err(stopped) => {
            upload.abort(call).await;
            Err(stopped)
        }
    }
}

/// The encoding loop: chunks read, planned in order, encoded and verified on
/// `encode_threads` threads, their windows appended to `sink`. `None` past the ratio
/// limit (an upload in progress is aborted).
async fn run<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    reference: Option<&Found>,
    mut sink: Sink,
) -> Result<Option<(Sink, Sha256Digest, Md5Digest)>, Stopped<T>> {
    let config = &call.shared.config;
    let limit = (whole.size as f64 * config.max_delta_ratio) as u64;
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
    let mut buffer = Vec::new();
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
            .append(done?.map_err(failed)?, &mut buffer)
            .map_err(failed)?;
        if sink.len(&buffer) > limit {
            return over_limit(call, sink, limit).await;
        }
        sink = drain(call, sink, &mut buffer, config.max_object_size, false).await?;
    }
    encoder.finish(&mut buffer).map_err(failed)?;
    if sink.len(&buffer) > limit {
        return over_limit(call, sink, limit).await;
    }
    let sink = drain(call, sink, &mut buffer, config.max_object_size, true).await?;
    call.shared.counters.encoded(stopwatch.micros(), whole.size);
    Ok(Some((sink, sha256.finish(), md5.finish())))
}

/// The end of an encoding whose delta went over `limit`: an upload in progress aborted.
async fn over_limit<T: Backend, R>(
    call: Call<'_, T>,
    sink: Sink,
    limit: u64,
) -> Result<Option<R>, Stopped<T>> {
    let Call { bucket, key, .. } = call;
    tracing::debug!(bucket, key, limit, "large delta over its limit");
    if let Sink::Upload { upload, .. } = &sink {
        upload.abort(call).await;
    }
    Ok(None)
}

/// Moves what `buffer` holds into `sink`: kept while a held delta stays within `hold`
/// (else only counted from then on), counted, or sent as parts of [`part_size`] bytes
/// (and the rest too when `last`).
async fn drain<T: Backend>(
    call: Call<'_, T>,
    sink: Sink,
    buffer: &mut Vec<u8>,
    hold: u64,
    last: bool,
) -> Result<Sink, Stopped<T>> {
    Ok(match sink {
        Sink::Held(mut held) => {
            held.append(buffer);
            if held.len() as u64 > hold {
                Sink::Counted(held.len() as u64)
            } else {
                Sink::Held(held)
            }
        }
        Sink::Counted(n) => {
            let n = n + buffer.len() as u64;
            buffer.clear();
            Sink::Counted(n)
        }
        Sink::Upload {
            mut upload,
            mut sent,
        } => {
            let part_len = part_size(hold);
            while buffer.len() >= part_len || (last && !buffer.is_empty()) {
                let part: Vec<u8> = buffer.drain(..part_len.min(buffer.len())).collect();
                sent += part.len() as u64;
                upload.put(call, Bytes::from(part)).await?;
            }
            Sink::Upload { upload, sent }
        }
    })
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

/// Whether `whole` may be stored as a delta: not when its ETag is not the MD5 a plain S3
/// gives it.
fn etag_is_md5<T: Backend>(call: Call<'_, T>, whole: &Whole, md5: Md5Digest) -> bool {
    let Call { bucket, key, .. } = call;
    if whole.multipart_etag.is_none() && whole.etag.trim_matches('"') != md5.to_hex() {
        // A backend whose ETag is not the MD5 (encryption, say): a delta would change the
        // ETag clients see. It stays whole.
        tracing::info!(bucket, key, "the object's ETag is not its MD5: kept whole");
        return false;
    }
    true
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
