//! The request body [`SigV4`](super::SigV4) passes inward, and the check of signed
//! payloads.
//!
//! Signed payloads are read up to [`SigV4Config::buffer_limit`](super::SigV4Config::buffer_limit)
//! and checked before the inner service is called, so that a mismatch gets its S3 error.
//! A payload larger than that streams through with the check running alongside: when it
//! fails, the body yields an error (wrapping the [`S3Error`]) in place of the rest of the
//! data or of its end, so the inner service sees a failed upload, never a complete one.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use sha2::{Digest, Sha256};

use super::chunked::ChunkVerifier;
use super::errors::{content_sha256_mismatch, incomplete_body};
use crate::body::{BodyError, BoxError};
use crate::error::S3Error;

/// What a signed payload is checked against.
pub(crate) enum PayloadCheck {
    /// `x-amz-content-sha256` was the payload's SHA-256.
    Sha256 { hasher: Sha256, expected: [u8; 32] },
    /// Signed `aws-chunked` (boxed: the verifier is large).
    Chunked(Box<ChunkVerifier>),
}

impl fmt::Debug for PayloadCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sha256 { .. } => f.write_str("Sha256"),
            Self::Chunked(verifier) => verifier.fmt(f),
        }
    }
}

impl PayloadCheck {
    fn update(&mut self, data: &[u8]) -> Result<(), S3Error> {
        match self {
            Self::Sha256 { hasher, .. } => {
                hasher.update(data);
                Ok(())
            }
            Self::Chunked(verifier) => verifier.update(data),
        }
    }

    fn finish(&mut self) -> Result<(), S3Error> {
        match self {
            Self::Sha256 { hasher, expected } => {
                if hasher.finalize_reset().as_slice() == expected.as_slice() {
                    Ok(())
                } else {
                    Err(content_sha256_mismatch())
                }
            }
            Self::Chunked(verifier) => verifier.finish(),
        }
    }
}

pin_project! {
    /// The request body [`SigV4`](super::SigV4) gives the inner service: the client's
    /// body, passed through or (for signed payloads) checked as described in
    /// [`SigV4Config::buffer_limit`](super::SigV4Config::buffer_limit). The bytes are the
    /// client's, unchanged (an `aws-chunked` body stays `aws-chunked`).
    pub struct SigV4Body<B> {
        #[pin]
        inner: Inner<B>,
    }
}

pin_project! {
    #[project = InnerProj]
    enum Inner<B> {
        Passthrough { #[pin] body: B },
        Buffered { data: Option<Bytes>, trailers: Option<HeaderMap> },
        Checked { prefix: Option<Bytes>, body: Pin<Box<B>>, check: PayloadCheck, done: bool },
    }
}

impl<B> fmt::Debug for SigV4Body<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.inner {
            Inner::Passthrough { .. } => "passthrough",
            Inner::Buffered { .. } => "buffered",
            Inner::Checked { .. } => "checked",
        };
        f.debug_struct("SigV4Body").field("mode", &mode).finish()
    }
}

impl<B> SigV4Body<B> {
    /// Passes `body` through unchecked (unsigned payloads, anonymous requests).
    pub fn passthrough(body: B) -> Self {
        Self {
            inner: Inner::Passthrough { body },
        }
    }

    pub(crate) fn buffered(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            inner: Inner::Buffered {
                data: Some(data),
                trailers,
            },
        }
    }

    fn checked(prefix: Option<Bytes>, body: Pin<Box<B>>, check: PayloadCheck) -> Self {
        Self {
            inner: Inner::Checked {
                prefix,
                body,
                check,
                done: false,
            },
        }
    }
}

impl<B> Body for SigV4Body<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.project().inner.project() {
            InnerProj::Passthrough { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(BodyError::new))),
            InnerProj::Buffered { data, trailers } => {
                if let Some(data) = data.take().filter(|d| !d.is_empty()) {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(t))))
            }
            InnerProj::Checked {
                prefix,
                body,
                check,
                done,
            } => {
                if let Some(prefix) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(prefix))));
                }
                if *done {
                    return Poll::Ready(None);
                }
                let frame = ready!(body.as_mut().poll_frame(cx));
                let failed = |done: &mut bool, e: BodyError| {
                    *done = true;
                    Poll::Ready(Some(Err(e)))
                };
                match frame {
                    Some(Ok(frame)) => {
                        if let Some(Err(e)) = frame.data_ref().map(|d| check.update(d)) {
                            return failed(done, BodyError::new(e));
                        }
                        Poll::Ready(Some(Ok(frame)))
                    }
                    Some(Err(e)) => failed(done, BodyError::new(e)),
                    None => {
                        *done = true;
                        Poll::Ready(check.finish().err().map(|e| Err(BodyError::new(e))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Passthrough { body } => body.is_end_stream(),
            Inner::Buffered { data, trailers } => {
                data.as_ref().is_none_or(Bytes::is_empty) && trailers.is_none()
            }
            // Not before the check has run.
            Inner::Checked { prefix, done, .. } => prefix.is_none() && *done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Passthrough { body } => body.size_hint(),
            Inner::Buffered { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Inner::Checked {
                prefix, body, done, ..
            } => {
                let rest = if *done {
                    SizeHint::with_exact(0)
                } else {
                    body.size_hint()
                };
                let held = prefix.as_ref().map_or(0, |p| p.len() as u64);
                let mut hint = SizeHint::new();
                hint.set_lower(rest.lower().saturating_add(held));
                if let Some(upper) = rest.upper() {
                    hint.set_upper(upper.saturating_add(held));
                }
                hint
            }
        }
    }
}

/// Reads up to `limit` bytes of `body` through `check`. A body that ends within the limit
/// is checked completely (a mismatch is the error returned) and handed on buffered; a
/// longer one (or one whose `declared` length is longer) is handed on streaming, checked
/// as it goes.
pub(crate) async fn check_payload<B>(
    body: B,
    mut check: PayloadCheck,
    limit: u64,
    declared: Option<u64>,
) -> Result<SigV4Body<B>, S3Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    use http_body_util::BodyExt;
    let mut body = Box::pin(body);
    if declared.is_some_and(|n| n > limit) {
        return Ok(SigV4Body::checked(None, body, check));
    }
    let mut buffer = BytesMut::new();
    let mut trailers: Option<HeaderMap> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| incomplete_body(&format!("reading the body failed: {}", e.into())))?;
        match frame.into_data() {
            Ok(data) => {
                check.update(&data)?;
                buffer.extend_from_slice(&data);
                if buffer.len() as u64 > limit {
                    return Ok(SigV4Body::checked(Some(buffer.freeze()), body, check));
                }
            }
            Err(frame) => {
                if let Ok(more) = frame.into_trailers() {
                    trailers.get_or_insert_with(HeaderMap::new).extend(more);
                }
            }
        }
    }
    check.finish()?;
    Ok(SigV4Body::buffered(buffer.freeze(), trailers))
}
