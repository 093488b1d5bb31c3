//! The body types the layer sends inward and returns outward.
//!
//! Both are either the caller's body, passed through untouched, or bytes the layer built
//! (a delta, a reconstructed object, an error document).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
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
        inner: Inner<B>,
    }
}

pin_project! {
    #[project = InnerProj]
    #[derive(Debug)]
    enum Inner<B> {
        Passthrough { #[pin] body: B },
        Full { bytes: Option<Bytes> },
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
            inner: Inner::Passthrough { body },
        }
    }

    /// A body of exactly `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self {
            inner: Inner::Full {
                bytes: Some(bytes.into()),
            },
        }
    }

    /// The bytes of a body the layer built, or the passed-through body.
    pub fn into_full(self) -> Result<Bytes, B> {
        match self.inner {
            Inner::Passthrough { body } => Err(body),
            Inner::Full { bytes } => Ok(bytes.unwrap_or_default()),
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self {
            inner: Inner::Full { bytes: None },
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
            InnerProj::Passthrough { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(BodyError::new))),
            InnerProj::Full { bytes } => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Passthrough { body } => body.is_end_stream(),
            Inner::Full { bytes } => bytes.as_ref().is_none_or(Bytes::is_empty),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Passthrough { body } => body.size_hint(),
            Inner::Full { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
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
