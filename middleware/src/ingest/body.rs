//! [`IngestBody`]: the plain request body the services behind [`Ingest`](super::Ingest)
//! read, and the error slot it shares with the response future.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::engine::{Engine, checksum_headers, read_failed};
use crate::body::{BodyError, BoxError, full_frame};
use crate::s3::error::S3Error;

/// Where a streamed body leaves the S3 error it failed with, for the response future to
/// answer with (whatever the inner service made of the failed upload).
#[derive(Debug, Clone, Default)]
pub(crate) struct Slot(Arc<Mutex<Option<S3Error>>>);

impl Slot {
    fn set(&self, error: S3Error) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(error);
    }

    /// The error the body failed with, if it did.
    pub(crate) fn take(&self) -> Option<S3Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

pin_project! {
    /// A request body after [`Ingest`](super::Ingest): the payload without any
    /// `aws-chunked` framing, verified.
    ///
    /// A body read before the inner service was called holds verified bytes. A larger one
    /// streams, and holds back its last bytes until every check passed: on a mismatch it
    /// yields an error (wrapping the [`S3Error`]) in their place, so a backend reading
    /// `Content-Length` bytes never sees a complete upload. A verified trailer checksum
    /// follows the data as a trailers frame.
    pub struct IngestBody<B> {
        #[pin]
        inner: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Buffered { data: Option<Bytes> },
        Streaming { #[pin] body: B, stream: Box<Stream> },
    }
}

/// The state of a streaming body.
#[derive(Debug)]
struct Stream {
    engine: Engine,
    /// The last payload slice, sent once the body is verified.
    held: Option<Bytes>,
    /// Payload bytes sent.
    sent: u64,
    trailers: Option<HeaderMap>,
    phase: Phase,
    slot: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Verified,
    Ended,
}

impl<B> fmt::Debug for IngestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.inner {
            Kind::Buffered { .. } => "buffered",
            Kind::Streaming { .. } => "streaming",
        };
        f.debug_struct("IngestBody").field("mode", &mode).finish()
    }
}

impl<B> IngestBody<B> {
    pub(crate) fn buffered(data: Bytes) -> Self {
        Self {
            inner: Kind::Buffered { data: Some(data) },
        }
    }

    pub(crate) fn streaming(body: B, engine: Engine, slot: Slot) -> Self {
        let stream = Stream {
            engine,
            held: None,
            sent: 0,
            trailers: None,
            phase: Phase::Running,
            slot,
        };
        Self {
            inner: Kind::Streaming {
                body,
                stream: Box::new(stream),
            },
        }
    }
}

impl Stream {
    fn fail(&mut self, error: S3Error) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        tracing::debug!(
            code = error.code(),
            message = error.message(),
            "body refused"
        );
        self.phase = Phase::Ended;
        self.held = None;
        self.slot.set(error.clone());
        Poll::Ready(Some(Err(BodyError::new(error))))
    }

    fn send(&mut self, data: Bytes) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.sent += data.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn poll<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        loop {
            match self.phase {
                Phase::Ended => return Poll::Ready(None),
                Phase::Verified => {
                    if let Some(data) = self.held.take() {
                        return self.send(data);
                    }
                    self.phase = Phase::Ended;
                    return Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                Phase::Running => {}
            }
            match self.engine.next() {
                Err(e) => return self.fail(e),
                Ok(Some(data)) if data.is_empty() => {}
                Ok(Some(data)) => {
                    if let Some(previous) = self.held.replace(data) {
                        return self.send(previous);
                    }
                }
                Ok(None) => match ready!(body.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        // HTTP trailers are not S3's: its trailers travel inside aws-chunked.
                        if let Ok(data) = frame.into_data() {
                            self.engine.push(data);
                        }
                    }
                    Some(Err(e)) => return self.fail(read_failed(e.into())),
                    None => match self.engine.finish() {
                        Ok(checksum) => {
                            self.trailers = checksum.as_ref().map(checksum_headers);
                            self.phase = Phase::Verified;
                        }
                        Err(e) => return self.fail(e),
                    },
                },
            }
        }
    }
}

impl<B> Body for IngestBody<B>
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
            KindProj::Buffered { data } => Poll::Ready(full_frame(data)),
            KindProj::Streaming { body, stream } => stream.poll(body, cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Kind::Buffered { data } => data.as_ref().is_none_or(Bytes::is_empty),
            Kind::Streaming { stream, .. } => stream.phase == Phase::Ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Kind::Buffered { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Streaming { stream, .. } if stream.phase == Phase::Ended => {
                SizeHint::with_exact(0)
            }
            Kind::Streaming { stream, .. } => match stream.engine.declared() {
                Some(declared) => SizeHint::with_exact(declared.saturating_sub(stream.sent)),
                None => SizeHint::new(),
            },
        }
    }
}
