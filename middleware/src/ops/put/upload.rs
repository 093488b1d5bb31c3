//! Reading a PutObject body whole: the bytes, the checksums a streamed body passes on as
//! trailers, and the length checked against the one the client declared.

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http_body_util::BodyExt;

use crate::inner::{ByteBody, Stop};
use crate::s3::error::S3Error;

/// A body read whole.
pub(super) struct Read {
    /// Its bytes.
    pub(super) data: Bytes,
    /// Its trailers (name, value), where a streamed body sent checksums after the bytes.
    pub(super) trailers: Vec<(String, String)>,
}

/// Reads a plain body (the ingest in front, or the layer's own, decoded and verified it)
/// of at most `limit` bytes; it must hold the `declared` length, when there is one.
pub(super) async fn read<B: ByteBody, E, RB>(
    body: B,
    declared: Option<u64>,
    limit: u64,
) -> Result<Read, Stop<E, RB>> {
    let read = collect_with_trailers(body, limit).await?;
    if let Some(n) = declared.filter(|&n| n != read.data.len() as u64) {
        return Err(S3Error::new(
            "IncompleteBody",
            StatusCode::BAD_REQUEST,
            format!(
                "the body has {} bytes, the request declared {n}",
                read.data.len()
            ),
        )
        .into());
    }
    Ok(read)
}

/// Reads a plain body whole, with the checksum a streamed body passes on as a trailer.
async fn collect_with_trailers<B: ByteBody>(body: B, limit: u64) -> Result<Read, S3Error> {
    let mut body = std::pin::pin!(body);
    let mut data = BytesMut::new();
    let mut trailers = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            S3Error::new(
                "IncompleteBody",
                StatusCode::BAD_REQUEST,
                format!("reading the body failed: {}", e.into()),
            )
        })?;
        match frame.into_data() {
            Ok(piece) => {
                if (data.len() + piece.len()) as u64 > limit {
                    return Err(S3Error::new(
                        "EntityTooLarge",
                        StatusCode::BAD_REQUEST,
                        format!("the body is larger than {limit} bytes"),
                    ));
                }
                data.extend_from_slice(&piece);
            }
            Err(frame) => {
                let Ok(more) = frame.into_trailers() else {
                    continue;
                };
                trailers.extend(more.iter().filter_map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                }));
            }
        }
    }
    Ok(Read {
        data: data.freeze(),
        trailers,
    })
}
