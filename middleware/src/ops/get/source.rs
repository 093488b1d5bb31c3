//! Where a streamed reconstruction reads its reference: the reference cache, or ranged GETs
//! of the reference object, one read-ahead buffer at a time.

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use deltaglider_codec::{Sha256Digest, StreamDecoder};
use http::{Method, StatusCode, header};
use http_body_util::BodyExt;

use super::current::found;
use crate::body::BodyError;
use crate::call::{Backend, Call, Stopped};
use crate::inner::{ByteBody, Inner};
use crate::refs::load;
use crate::s3::error::S3Error;
use crate::stored::meta::ObjectMeta;

/// The least a ranged read fetches: consecutive windows usually read neighbouring parts
/// of the reference, so one request serves several of them.
pub(super) const READ_AHEAD: u64 = 8 << 20;

/// A reference, checked against the SHA-256 the delta names, that serves byte ranges (to
/// GETs, and to the large-object store path).
pub(crate) enum RefSource<T: Backend> {
    /// Held in memory (the reference cache): no backend calls.
    Memory(Bytes),
    /// Read by ranged GETs; `buffer` holds the last bytes fetched, from `buffer_start`.
    Ranged {
        inner: Inner<T::Service>,
        bucket: String,
        key: String,
        len: u64,
        etag: Option<String>,
        buffer: Bytes,
        buffer_start: u64,
    },
}

impl<T: Backend> RefSource<T> {
    /// Reads `key` (`len` bytes) by ranged GETs; every answer must carry `etag`, so an
    /// object replaced meanwhile fails the read rather than mixing two versions.
    fn ranged(
        inner: Inner<T::Service>,
        bucket: &str,
        key: &str,
        len: u64,
        etag: Option<String>,
    ) -> Self {
        RefSource::Ranged {
            inner,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            len,
            etag,
            buffer: Bytes::new(),
            buffer_start: 0,
        }
    }

    /// Total length of the reference.
    pub(super) fn len(&self) -> u64 {
        match self {
            RefSource::Memory(bytes) => bytes.len() as u64,
            RefSource::Ranged { len, .. } => *len,
        }
    }

    /// A decoder for this reference, of a delta producing `expected_len` bytes.
    pub(super) fn decoder(&self, expected_len: u64) -> StreamDecoder {
        StreamDecoder::new(self.len(), expected_len)
    }
}

/// Opens reference `ref_key` of a delta made against `expected`. From the cache when it is
/// there; else its identity is checked by a HEAD (its own `dg-file-sha256` must be
/// `expected`) and its bytes are read later by ranges. A reference without a recorded
/// SHA-256 is read whole and hashed (and then cached). Failures here happen before any byte
/// of the response is sent, so they are S3 error responses.
pub(crate) async fn open<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    expected: &Sha256Digest,
) -> Result<RefSource<T>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let missing = || S3Error::internal(format!("reference {ref_key} is missing"));
    if let Some(cached) = shared.cache.get(bucket, ref_key) {
        check_identity(ref_key, &cached.sha256, expected)?;
        return Ok(RefSource::Memory(cached.bytes));
    }
    let Some(head) = found(inner.head(bucket, ref_key).await?)? else {
        return Err(missing().into());
    };
    let meta = ObjectMeta::parse(ref_key, |name| head.meta(name)).ok();
    // A reference stored as a delta of an older one is materialised, not read by ranges.
    let recorded = meta
        .filter(|meta| meta.reference.is_none())
        .map(|meta| meta.file_sha256);
    let len = head
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match (recorded, len) {
        (Some(recorded), Some(len)) => {
            check_identity(ref_key, &recorded, expected)?;
            let etag = head
                .headers
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            Ok(RefSource::ranged(inner.clone(), bucket, ref_key, len, etag))
        }
        // Nothing to check it against but its bytes, or stored as a delta: read whole,
        // bounded by the object size limit, hashed (and cached) by the reference loader.
        _ => load::load(call, ref_key, Some(expected))
            .await?
            .map(|r| RefSource::Memory(r.bytes))
            .ok_or_else(|| missing().into()),
    }
}

fn check_identity(
    ref_key: &str,
    actual: &Sha256Digest,
    expected: &Sha256Digest,
) -> Result<(), S3Error> {
    if actual == expected {
        return Ok(());
    }
    Err(S3Error::internal(format!(
        "reference {ref_key} has SHA-256 {actual}, the delta was made against {expected}"
    )))
}

impl<T: Backend> RefSource<T> {
    /// The reference bytes of `range`.
    pub(crate) async fn read(&mut self, range: Range<u64>) -> Result<Bytes, BodyError> {
        match self {
            RefSource::Memory(bytes) => usize::try_from(range.start)
                .ok()
                .zip(usize::try_from(range.end).ok())
                .filter(|(_, end)| *end <= bytes.len())
                .map(|(start, end)| bytes.slice(start..end))
                .ok_or_else(|| BodyError::new("the delta reads past the reference's end")),
            RefSource::Ranged {
                inner,
                bucket,
                key,
                len,
                etag,
                buffer,
                buffer_start,
            } => {
                let buffered = *buffer_start..*buffer_start + buffer.len() as u64;
                if range.start < buffered.start || range.end > buffered.end {
                    let end = range
                        .end
                        .max(range.start.saturating_add(READ_AHEAD))
                        .min(*len);
                    if range.end > end {
                        return Err(BodyError::new("the delta reads past the reference's end"));
                    }
                    // Bytes already buffered from `range.start` on are kept, not fetched
                    // again: windows often read overlapping segments.
                    let kept = if buffered.contains(&range.start) {
                        buffer.slice((range.start - buffered.start) as usize..)
                    } else {
                        Bytes::new()
                    };
                    *buffer = Bytes::new();
                    let from = range.start + kept.len() as u64;
                    let fetched =
                        fetch_range::<T>(inner, bucket, key, *len, etag.as_deref(), from..end)
                            .await?;
                    *buffer = if kept.is_empty() {
                        fetched
                    } else {
                        let mut joined = BytesMut::with_capacity(kept.len() + fetched.len());
                        joined.extend_from_slice(&kept);
                        drop(kept);
                        joined.extend_from_slice(&fetched);
                        joined.freeze()
                    };
                    *buffer_start = range.start;
                }
                let from = (range.start - *buffer_start) as usize;
                let to = (range.end - *buffer_start) as usize;
                Ok(buffer.slice(from..to))
            }
        }
    }
}

/// One ranged GET of `want` from the reference. A backend that ignores `Range` answers 200
/// with the whole object: then only the wanted bytes are kept, the rest skipped as it
/// arrives, so memory stays at the range whatever the reference's size.
pub(crate) async fn fetch_range<T: Backend>(
    inner: &Inner<T::Service>,
    bucket: &str,
    key: &str,
    len: u64,
    etag: Option<&str>,
    want: Range<u64>,
) -> Result<Bytes, BodyError> {
    let wanted_len = want.end - want.start;
    if wanted_len == 0 {
        return Ok(Bytes::new());
    }
    let (body, skip) = open_range::<T>(inner, bucket, key, len, etag, want).await?;
    read_slice(body, skip, wanted_len)
        .await
        .map_err(|e| BodyError::new(format!("reading {key}: {e}")))
}

/// Sends one ranged GET of `want` (not empty) from `key`, `len` bytes long, and checks the
/// answer: its ETag must be `etag` (an object replaced meanwhile fails the read rather
/// than mixing two versions), and its Content-Range the one asked for. Returns the body
/// and how many of its leading bytes precede `want`: none, or `want.start` when the
/// backend ignored `Range` and sent the whole object.
pub(crate) async fn open_range<T: Backend>(
    inner: &Inner<T::Service>,
    bucket: &str,
    key: &str,
    len: u64,
    etag: Option<&str>,
    want: Range<u64>,
) -> Result<(T::Reply, u64), BodyError> {
    let failed = |what: String| BodyError::new(format!("reading {key}: {what}"));
    let request = inner
        .request(Method::GET, bucket, key, "")
        .header(
            header::RANGE,
            format!("bytes={}-{}", want.start, want.end - 1),
        )
        .header(header::CONTENT_LENGTH, 0)
        .body(crate::body::Either::empty())
        .map_err(|e| failed(e.to_string()))?;
    let response = inner
        .send(request)
        .await
        .map_err(|_| failed("the backend is unreachable".to_owned()))?;
    let (parts, body) = response.into_parts();
    let stored_etag = parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok());
    if let (Some(expected), Some(actual)) = (etag, stored_etag)
        && expected != actual
    {
        return Err(failed(format!(
            "it changed while being read (ETag {actual}, was {expected})"
        )));
    }
    let skip = match parts.status {
        StatusCode::PARTIAL_CONTENT => {
            let content_range = parts
                .headers
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let expected = format!("bytes {}-{}/", want.start, want.end - 1);
            let total = content_range.strip_prefix(&expected);
            if !total.is_some_and(|t| t == "*" || t == len.to_string()) {
                return Err(failed(format!(
                    "asked for {expected}, the backend sent Content-Range {content_range:?}"
                )));
            }
            0
        }
        StatusCode::OK => {
            tracing::warn!(
                key,
                "the backend ignored Range; skipping to the wanted bytes"
            );
            want.start
        }
        status => return Err(failed(format!("the backend answered {status}"))),
    };
    Ok((body, skip))
}

/// Bytes `skip..skip + len` of `body`, reading no further and holding no more than them.
async fn read_slice<RB: ByteBody>(body: RB, skip: u64, len: u64) -> Result<Bytes, BodyError> {
    let mut body = std::pin::pin!(body);
    let mut to_skip = skip;
    let capacity = usize::try_from(len).map_err(BodyError::new)?;
    let mut out = BytesMut::with_capacity(capacity);
    while (out.len() as u64) < len {
        let Some(frame) = body.frame().await else {
            return Err(BodyError::new(format!(
                "the body ended after {} of {len} bytes",
                out.len()
            )));
        };
        let Ok(mut data) = frame.map_err(BodyError::new)?.into_data() else {
            continue;
        };
        if to_skip > 0 {
            let n = to_skip.min(data.len() as u64);
            to_skip -= n;
            let _ = data.split_to(n as usize);
        }
        let room = (len - out.len() as u64).min(data.len() as u64) as usize;
        out.extend_from_slice(&data[..room]);
    }
    Ok(out.freeze())
}
