//! Objects larger than memory: eligible objects above `max_object_size` (up to
//! `max_large_object_size`) stored as deltas in bounded memory.
//!
//! Such an object reaches the backend whole first — a multipart upload's parts go
//! straight there, a large PutObject is forwarded — so nothing about the upload is held in
//! the proxy, and several proxies may serve its parts. Once it is complete, [`store`] reads
//! it back by ranges (pinned by its ETag), chunk by chunk, and encodes each chunk against
//! the reference bytes around its expected place (`deltaglider_codec::WindowedEncoder`;
//! the reference read from the cache or by ranges too), on every core; each chunk's
//! windows are decoded back against the same reference bytes and compared with the chunk
//! (each window's Adler-32 checked too) before they join the delta. Only then is
//! `<key>.delta` written and the whole object removed. Any failure on the way leaves the
//! object whole, as S3 would hold it: correct, only not smaller.
//!
//! Memory: the chunks and segments being encoded (`encode_threads × (chunk + 2 ×
//! margin)` and the encoder's tables), and the delta, which must come under
//! `max_object_size` (and the ratio) or the object stays whole.
//!
//! A deltaspace without a reference is seeded from the object itself ([`seed`]): its
//! SHA-256 read by ranges, then a server-side multipart copy to `reference.bin`, completed
//! only if none exists (`If-None-Match: *`).

mod choose;
mod encode;
mod parts;
mod seed;
mod upload;

pub(crate) use parts::Whole;
use parts::{Encoded, Found};
use seed::Seeded;
use upload::Upload;

use super::cleanup;
use super::written;
use crate::call::{Backend, Call, Stopped};
use crate::inner::Stop;
use crate::ledger::change;
use crate::ledger::figures::Figures;
use crate::refs::create;
use crate::refs::unused;
use crate::s3::time;
use crate::state::metrics::Stopwatch;
use crate::state::metrics::WholeReason;
use crate::stored::keys;
use crate::stored::meta::{Kind, ObjectMeta, RefInfo};

/// Whether an object of `size` bytes takes this path.
pub(crate) fn applies<T: Backend>(call: Call<'_, T>, size: u64) -> bool {
    let config = &call.shared.config;
    size > config.max_object_size && size <= config.max_large_object_size
}

/// Stores `whole`, now under `call.key` in the backend, as a delta when one pays; else
/// leaves it whole (and drops an older delta of the key). A failure is logged and the
/// object stays whole: the write the client made is complete either way.
///
/// `before`: what the savings ledger counted under the key before this write
/// (`crate::ledger::change::stored_now`); the change is recorded here.
pub(crate) async fn store<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    before: Option<Figures>,
) -> Result<(), Stopped<T>> {
    let result = store_and_log(call, whole).await;
    let after = match &result {
        Ok(Some(stored)) => Figures::object(whole.size, *stored, true),
        _ => Figures::object(whole.size, whole.size, false),
    };
    change::record(call, before, after).await;
    result.map(|_| ())
}

/// [`store`]: the delta's length when one was written.
async fn store_and_log<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
) -> Result<Option<u64>, Stopped<T>> {
    let Call { bucket, key, .. } = call;
    let stopwatch = Stopwatch::start();
    let result = try_store(call, whole).await;
    let seconds = stopwatch.micros() as f64 / 1e6;
    match result {
        Ok(Some(stored)) => {
            call.shared
                .counters
                .stored_delta(bucket, whole.size, stored, 0);
            tracing::info!(
                bucket,
                key,
                original = whole.size,
                stored,
                storage = "delta",
                seconds,
                "large object stored"
            );
            Ok(Some(stored))
        }
        Ok(None) => {
            call.shared
                .counters
                .stored_whole(bucket, whole.size, WholeReason::DeltaTooLarge);
            tracing::info!(
                bucket,
                key,
                original = whole.size,
                storage = "whole",
                seconds,
                "large object stored whole: no delta came under the limits"
            );
            cleanup::drop_older_delta(call).await.map(|()| None)
        }
        Err(stopped) => {
            let status = match &stopped {
                Stop::Reply(response) => response.status().to_string(),
                Stop::Inner(_) => "the backend is unreachable".to_owned(),
            };
            tracing::warn!(
                bucket,
                key,
                error = status,
                seconds,
                "large object left whole: encoding it failed"
            );
            // Whole it is: an older delta of the key must not stay beside it. Best effort:
            // readers pick the newer form meanwhile.
            let _ = cleanup::drop_older_delta(call).await;
            Ok(None)
        }
    }
}

/// The delta's length when one was written.
async fn try_store<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
) -> Result<Option<u64>, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let (reference, encoded) = match choose::reference(call, whole).await? {
        Some(found) => (found, None),
        None => match seed::seed(call, whole).await? {
            Seeded::Ours(found, encoded) => (found, Some(encoded)),
            Seeded::Theirs(found) => (found, None),
            Seeded::Unknown => return Ok(None),
        },
    };
    let encoded = match encoded {
        Some(encoded) => encoded,
        None => match encode::encode(call, whole, Some(&reference)).await? {
            Some(encoded) => encoded,
            None => return Ok(None),
        },
    };
    // Every chunk's windows were decoded back to its bytes as they were encoded.
    let object = describe(call, whole, &reference, &encoded);
    let delta_key = keys::delta_key(key);
    let replaced = unused::named_by(call, &delta_key).await;
    let len = encoded.len;
    match &encoded.delta {
        Some(delta) => {
            let delta = delta.clone();
            written::write(call, &delta_key, &whole.headers, delta, Some(&object)).await?;
        }
        None => {
            // Too large to hold: encoded again, streamed to the backend part by part.
            let headers = written::stored_headers(&whole.headers, Some(&object))?;
            let upload = Upload::create(call, &delta_key, headers).await?;
            encode::stream_to(call, whole, &reference, upload, &encoded).await?;
        }
    }
    if !create::holds(call, &reference.key, &reference.sha256).await? {
        // The reference went (or changed) while this object was encoded: the delta is
        // useless, the whole object is still there and stays.
        tracing::warn!(
            bucket,
            key,
            reference = reference.key,
            "reference changed under a large delta; kept whole"
        );
        let _ = inner.delete_stored(bucket, &delta_key).await?;
        return Ok(None);
    }
    cleanup::after_large_delta(call, &reference.key, replaced).await?;
    Ok(Some(len))
}

/// DeltaGlider's metadata of the delta of `whole`.
fn describe<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
    reference: &Found,
    encoded: &Encoded,
) -> ObjectMeta {
    let Call { inner, key, .. } = call;
    let space = keys::deltaspace(key);
    ObjectMeta {
        kind: Kind::Delta,
        tool: format!("deltaglider-rs/{}", env!("CARGO_PKG_VERSION")),
        file_sha256: encoded.sha256,
        file_size: Some(whole.size),
        md5: Some(encoded.md5),
        multipart_etag: whole.multipart_etag.clone(),
        created_at: time::rfc3339_micros(inner.now_micros()),
        original_name: Some(key[space.len()..].to_owned()),
        source_name: None,
        reference: Some(RefInfo {
            key: reference.key.clone(),
            sha256: reference.sha256,
        }),
        delta_size: Some(encoded.len),
        ref_seq: 0,
        checksums: Vec::new(),
        payload_delta: None,
    }
}
