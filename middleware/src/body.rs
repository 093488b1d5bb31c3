//! The body types the layer sends inward and returns outward.
//!
//! Both are either the caller's body, passed through untouched, bytes the layer built
//! (a delta, an error document), or — for a reconstructed object — a [`Streamed`] body the
//! layer produces window by window while it is sent.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

/// Boxed error of a body the layer passes through.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body error, wrapped so that it implements `std::error::Error` (inner services such as
/// s3s require that of request bodies).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BodyError(BoxError);

impl BodyError {
    /// Wraps any boxable error.
    pub fn new(error: impl Into<BoxError>) -> Self {
        Self(error.into())
    }
}

pin_project! {
    /// A body that is either passed through or built by the layer.
    #[derive(Debug)]
    pub struct Either<B> {
        #[pin]
        inner: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<B> {
        Passthrough { #[pin] body: B },
        Full { bytes: Option<Bytes> },
        Streamed { #[pin] body: Streamed },
    }
}

/// What an [`Either`] holds, taken apart.
#[derive(Debug)]
pub enum Contents<B> {
    /// Bytes the layer built.
    Full(Bytes),
    /// The body of the caller (requests) or of the inner service (responses), untouched.
    Passthrough(B),
    /// An object the layer reconstructs while it is sent.
    Streamed(Streamed),
}

/// The stream behind a [`Streamed`] body: `Send` on native targets, not on wasm32.
#[cfg(not(target_arch = "wasm32"))]
type DynStream = Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send>>;
/// The stream behind a [`Streamed`] body: `Send` on native targets, not on wasm32.
#[cfg(target_arch = "wasm32")]
type DynStream = Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>>>>;

/// A body of known length that the layer produces piece by piece (a delta-stored object
/// reconstructed window by window). It ends with an error — never a clean end — if the
/// object cannot be produced exactly: a server must then abort the response, so the client
/// sees a failed transfer rather than wrong bytes.
pub struct Streamed {
    /// Only ever used through `&mut` (no locking): the mutex makes the body `Sync`, as
    /// bodies the layer passes through may be, without `unsafe`.
    stream: std::sync::Mutex<DynStream>,
    remaining: u64,
}

impl Streamed {
    /// A body of exactly `len` bytes read from `stream`.
    pub(crate) fn new(stream: DynStream, len: u64) -> Self {
        Self {
            stream: std::sync::Mutex::new(stream),
            remaining: len,
        }
    }
}

impl std::fmt::Debug for Streamed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streamed")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let stream = self
            .stream
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                self.remaining = self.remaining.saturating_sub(bytes.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        // Exact while the stream keeps its promise; a stream that fails ends with an error.
        SizeHint::with_exact(self.remaining)
    }
}

/// Requests the layer sends to the inner service.
pub type RequestBody<B> = Either<B>;
/// Responses the layer returns.
pub type ResponseBody<B> = Either<B>;

impl<B> Either<B> {
    /// Passes `body` through.
    pub fn passthrough(body: B) -> Self {
        Self {
            inner: Kind::Passthrough { body },
        }
    }

    /// A body of exactly `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self {
            inner: Kind::Full {
                bytes: Some(bytes.into()),
            },
        }
    }

    /// The bytes of a body the layer built, or the body itself when it is not bytes (passed
    /// through, or streamed).
    pub fn into_full(self) -> Result<Bytes, Self> {
        match self.inner {
            Kind::Full { bytes } => Ok(bytes.unwrap_or_default()),
            inner => Err(Self { inner }),
        }
    }

    /// What the body holds.
    pub fn into_contents(self) -> Contents<B> {
        match self.inner {
            Kind::Passthrough { body } => Contents::Passthrough(body),
            Kind::Full { bytes } => Contents::Full(bytes.unwrap_or_default()),
            Kind::Streamed { body } => Contents::Streamed(body),
        }
    }

    /// A body the layer produces while it is sent.
    pub fn streamed(body: Streamed) -> Self {
        Self {
            inner: Kind::Streamed { body },
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self {
            inner: Kind::Full { bytes: None },
        }
    }
}

impl<B> Either<Either<B>> {
    /// One level of "a body the layer built, or the body below": for a layer over a
    /// service whose bodies are themselves [`Either`]s.
    pub fn flatten(self) -> Either<B> {
        match self.into_contents() {
            Contents::Passthrough(below) => below,
            Contents::Full(bytes) => Either::full(bytes),
            Contents::Streamed(body) => Either::streamed(body),
        }
    }
}

impl<B> Body for Either<B>
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
            KindProj::Passthrough { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(BodyError::new))),
            KindProj::Full { bytes } => Poll::Ready(full_frame(bytes)),
            KindProj::Streamed { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Kind::Passthrough { body } => body.is_end_stream(),
            Kind::Full { bytes } => bytes.as_ref().is_none_or(Bytes::is_empty),
            Kind::Streamed { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Kind::Passthrough { body } => body.size_hint(),
            Kind::Full { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Kind::Streamed { body } => body.size_hint(),
        }
    }
}

/// Reads a whole body into memory, failing once it exceeds `limit` bytes.
pub(crate) async fn collect_limited<B>(body: B, limit: u64) -> Result<Bytes, CollectError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CollectError::Body(BodyError::new(e)))?;
        if let Ok(data) = frame.into_data() {
            if out.len() as u64 + data.len() as u64 > limit {
                return Err(CollectError::TooLarge { limit });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

/// Why a body could not be collected.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CollectError {
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("reading the body failed: {0}")]
    Body(BodyError),
}

/// The one frame of a body held whole: its bytes the first time (none if empty), then
/// the end.
pub(crate) fn full_frame(bytes: &mut Option<Bytes>) -> Option<Result<Frame<Bytes>, BodyError>> {
    bytes
        .take()
        .filter(|b| !b.is_empty())
        .map(|b| Ok(Frame::data(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_the_layer_builds_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Either<http_body_util::Full<Bytes>>>();
        send_sync::<Streamed>();
    }

    #[tokio::test]
    async fn a_streamed_body_reports_its_length_and_its_failure() {
        use http_body_util::BodyExt;
        let pieces = futures_util::stream::iter([
            Ok(Bytes::from_static(b"abc")),
            Err(BodyError::new("window 2 is corrupt")),
        ]);
        let mut body =
            Either::<http_body_util::Empty<Bytes>>::streamed(Streamed::new(Box::pin(pieces), 6));
        assert_eq!(body.size_hint().exact(), Some(6));
        let first = body.frame().await.and_then(|f| f.ok()?.into_data().ok());
        assert_eq!(first.as_deref(), Some(&b"abc"[..]));
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(body.frame().await.is_some_and(|f| f.is_err()));
    }
}
