//! The whole original of a key, as CopyObject reads its source: held in memory when it fits
//! in `max_object_size`, else produced while it is read (a delta decoded window by window
//! and checked by its SHA-256 at the end, or a whole object's bytes as the backend sends
//! them), for a copy that writes it on without holding it.

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, Method};

use super::current::current_delta;
use super::delta::{original_len, too_large_to_copy};
use super::headers::descriptive_headers;
use super::pieces::DeltaPieces;
use super::{memory, stream as streamed};
use crate::body::{Streamed, collect_limited};
use crate::call::{Backend, Call, Stopped};
use crate::s3::error::S3Error;
use crate::s3::length::content_length;
use crate::stored::keys;
use crate::stored::meta::ObjectMeta;

/// The original of a key and the headers that describe it.
pub(crate) enum Readback {
    /// Held: at most `max_object_size` bytes.
    Held(Bytes, HeaderMap),
    /// Larger: `len` bytes produced while they are read. The body ends with an error,
    /// never cleanly, if the bytes are not exactly the original's.
    Streamed(Streamed, u64, HeaderMap),
}

/// The original of `key`, whichever way it is stored; `None` when it does not exist.
pub(crate) async fn read_original<T: Backend>(
    call: Call<'_, T>,
) -> Result<Option<Readback>, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let limit = shared.config.max_object_size;
    if !shared.config.is_eligible(key) {
        return read_whole(call).await;
    }
    let Some(mut delta) = current_delta(call, Method::GET).await? else {
        return read_whole(call).await;
    };
    let delta_key = keys::delta_key(key);
    let meta = ObjectMeta::parse(&delta_key, |name| delta.meta(name))
        .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
    let headers = descriptive_headers(&delta.headers);
    if let Some(total) = meta.file_size.filter(|&total| total > limit) {
        if meta.payload_delta.is_some() {
            // A gzip archive is recompressed from its whole payload, in memory.
            return Err(too_large_to_copy(total, limit).into());
        }
        let pieces = DeltaPieces::from(delta.bytes);
        let body = streamed::whole(call, &meta, pieces, total).await?;
        return Ok(Some(Readback::Streamed(body, total, headers)));
    }
    let bytes = delta.hold(key, limit).await?;
    let total = original_len(key, &meta, &bytes)?;
    if total > limit {
        return Err(too_large_to_copy(total, limit).into());
    }
    let original = memory::decode(call, &meta, &bytes, None).await?;
    Ok(Some(Readback::Held(original, headers)))
}

/// `key` as stored whole: held when it fits in `max_object_size`, else its bytes as the
/// backend sends them.
async fn read_whole<T: Backend>(call: Call<'_, T>) -> Result<Option<Readback>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let Some((parts, body)) = inner.open(Method::GET, bucket, key).await? else {
        return Ok(None);
    };
    let headers = descriptive_headers(&parts.headers);
    match content_length(&parts.headers) {
        Some(len) if len > shared.config.max_object_size => Ok(Some(Readback::Streamed(
            passed_on::<T>(body, len),
            len,
            headers,
        ))),
        _ => {
            let bytes = collect_limited(body, shared.config.max_object_size)
                .await
                .map_err(|e| S3Error::internal(format!("reading {key}: {e}")))?;
            Ok(Some(Readback::Held(bytes, headers)))
        }
    }
}

/// `body`, `len` bytes from the backend, as a [`Streamed`] body: one that ends with an
/// error if the backend's ends short.
fn passed_on<T: Backend>(body: T::Reply, len: u64) -> Streamed {
    let pieces = DeltaPieces::<T>::Arriving {
        prefix: Bytes::new(),
        body: Box::pin(body),
        skip: 0,
        len,
    };
    let stream = stream::unfold(Some(pieces), |pieces| async move {
        let mut pieces = pieces?;
        match pieces.next().await {
            Ok(Some(piece)) => Some((Ok(piece), Some(pieces))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    Streamed::new(Box::pin(stream), len)
}
