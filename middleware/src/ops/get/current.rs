//! Which stored form of a key a read serves: `<key>.delta`, when it is the current one.

use std::pin::Pin;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};

use crate::body::collect_limited;
use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, Stop, pass_error};
use crate::s3::error::S3Error;
use crate::s3::length::content_length;
use crate::state::shared::Shared;
use crate::stored::current::{Written, whole_wins};
use crate::stored::keys;

/// Deltas up to this size are read whole by the request that finds them. Larger ones
/// (of objects stored by the large-object path) are streamed into the decoder, or read
/// by the ranges a request needs, so memory stays bounded whatever the delta's size.
pub(super) const HOLD: u64 = 8 << 20;

/// The largest delta a read holds: [`HOLD`], or `max_object_size` when smaller.
pub(super) fn held_at_most(shared: &Shared) -> u64 {
    HOLD.min(shared.config.max_object_size)
}

/// A stored delta as a read found it: its headers, and its bytes.
pub(super) struct StoredDelta<T: Backend> {
    pub(super) headers: HeaderMap,
    pub(super) bytes: DeltaBytes<T>,
}

/// The bytes of a stored delta: held (up to [`HOLD`], or none for a HEAD), or still
/// arriving in the backend's response.
pub(super) enum DeltaBytes<T: Backend> {
    Held(Bytes),
    Arriving { body: Pin<Box<T::Reply>>, len: u64 },
}

impl<T: Backend> StoredDelta<T> {
    /// A user-metadata value (`x-amz-meta-<name>`), if present and UTF-8.
    pub(super) fn meta(&self, name: &str) -> Option<&str> {
        self.headers
            .get(format!("x-amz-meta-{name}"))
            .and_then(|v| v.to_str().ok())
    }

    /// The stored delta's ETag, which pins later ranged reads of it to this version.
    pub(super) fn etag(&self) -> Option<&str> {
        self.headers.get(header::ETAG).and_then(|v| v.to_str().ok())
    }

    /// Its size in bytes.
    pub(super) fn len(&self) -> u64 {
        match &self.bytes {
            DeltaBytes::Held(bytes) => bytes.len() as u64,
            DeltaBytes::Arriving { len, .. } => *len,
        }
    }

    /// All its bytes, reading the rest when they are still arriving (at most `limit`);
    /// they stay held.
    pub(super) async fn hold(&mut self, key: &str, limit: u64) -> Result<Bytes, S3Error> {
        let bytes = match std::mem::replace(&mut self.bytes, DeltaBytes::Held(Bytes::new())) {
            DeltaBytes::Held(bytes) => bytes,
            DeltaBytes::Arriving { body, .. } => collect_limited(body, limit)
                .await
                .map_err(|e| S3Error::internal(format!("reading {}: {e}", keys::delta_key(key))))?,
        };
        self.bytes = DeltaBytes::Held(bytes.clone());
        Ok(bytes)
    }
}

/// `<key>.delta` read with `method`, when it is the current form of `key`: it exists,
/// and `<key>` does not or was written earlier ([`crate::stored::current`]; both exist
/// only after a writer was interrupted between writing one form and removing the other).
/// `None`: read `<key>`. The HEAD of `<key>` runs beside the delta's request, costing no
/// latency. A backend error on either is an error, never "absent".
pub(super) async fn current_delta<T: Backend>(
    call: Call<'_, T>,
    method: Method,
) -> Result<Option<StoredDelta<T>>, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let (delta, whole) =
        futures_util::future::join(read_delta(call, method), inner.head(bucket, key)).await;
    let Some(delta) = delta? else {
        return Ok(None);
    };
    let Some(whole) = found(whole?)? else {
        return Ok(Some(delta));
    };
    if whole_wins(&Written::of(&delta.headers), &Written::of(&whole.headers)) {
        tracing::warn!(
            bucket,
            key,
            "both stored forms exist; the whole object is newer"
        );
        return Ok(None);
    }
    Ok(Some(delta))
}

/// `<key>.delta` read with `method`: its headers, and for a GET its bytes (held up to
/// [`HOLD`], arriving beyond); `None` when it does not exist.
async fn read_delta<T: Backend>(
    call: Call<'_, T>,
    method: Method,
) -> Result<Option<StoredDelta<T>>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let streams = method == Method::GET;
    let Some((parts, body)) = inner.open(method, bucket, &keys::delta_key(key)).await? else {
        return Ok(None);
    };
    let bytes = match content_length(&parts.headers) {
        // Beyond what a read holds, or beyond the in-memory bound when that is smaller
        // (a delta written by the large path's second pass exceeds it).
        Some(len) if streams && parts.status == StatusCode::OK && len > held_at_most(shared) => {
            DeltaBytes::Arriving {
                body: Box::pin(body),
                len,
            }
        }
        _ => DeltaBytes::Held(
            collect_limited(body, shared.config.max_object_size)
                .await
                .map_err(|e| S3Error::internal(format!("reading the backend's response: {e}")))?,
        ),
    };
    Ok(Some(StoredDelta {
        headers: parts.headers,
        bytes,
    }))
}

/// What a read of a stored object found: the object, nothing (404), or the backend's own
/// error, passed on to the client unchanged.
pub(super) fn found<E, RB>(fetched: Fetched) -> Result<Option<Fetched>, Stop<E, RB>> {
    match fetched.status {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => Ok(Some(fetched)),
        _ => Err(pass_error(fetched)),
    }
}
