//! One request's ingest, whichever layer runs it: the head checked and rewritten, the
//! body read whole (small) or set up to stream (large).

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, header};
use http_body::Body;

use super::body::{IngestBody, Slot};
use super::engine::{Engine, checksum_headers};
use super::plan::{is_aws_chunked, plan};
use crate::body::BoxError;
use crate::s3::error::S3Error;

/// The request extension that says a request's body went through the ingest: plain
/// and verified (or failing, for a streamed body, before its end).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ingested;

/// What became of a request.
pub(crate) enum Prepared<B> {
    /// Refused before anything reached the inner service.
    Refused(S3Error),
    /// Read whole and verified.
    Read(Parts, Bytes),
    /// Streams, verified on the way; a failure lands in the slot.
    Streaming(Parts, IngestBody<B>, Slot),
}

/// Reads and drops up to `limit` bytes of a refused request's body, so that a client still
/// sending it reads the answer rather than a reset connection.
async fn drain<B>(body: B, limit: u64)
where
    B: Body<Data = Bytes>,
{
    use http_body_util::BodyExt;
    if body.size_hint().lower() > limit {
        return;
    }
    let mut body = std::pin::pin!(body);
    let mut read = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, |d| d.len() as u64);
        if read > limit {
            return;
        }
    }
}

/// Checks `parts`, then reads `body` whole when its payload is at most `limit` bytes (or
/// of unknown length), or sets it up to stream.
pub(crate) async fn prepare<B>(mut parts: Parts, body: B, limit: u64) -> Prepared<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let had_length =
        parts.headers.contains_key(header::CONTENT_LENGTH) || is_aws_chunked(&parts.headers);
    let plan = match plan(&mut parts, body.size_hint().exact()) {
        Ok(plan) => plan,
        Err(error) => {
            drain(body, limit).await;
            return Prepared::Refused(error);
        }
    };
    parts.extensions.insert(Ingested);
    let engine = Engine::new(plan);
    if let Some(declared) = engine.declared().filter(|&n| n > limit) {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
        let slot = Slot::default();
        let body = IngestBody::streaming(body, engine, slot.clone());
        return Prepared::Streaming(parts, body, slot);
    }
    match engine.read_all(body, limit).await {
        Err(error) => Prepared::Refused(error),
        Ok((data, checksum)) => {
            if had_length || !data.is_empty() {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(data.len()));
            }
            if let Some(checksum) = checksum {
                parts.headers.extend(checksum_headers(&checksum));
            }
            Prepared::Read(parts, data)
        }
    }
}
