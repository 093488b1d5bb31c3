//! Bodies between the layer and the R2 binding: responses carry R2's own streams, and
//! request bodies become R2 values without being held whole when their length is known.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use deltaglider::s3::length::content_length;
use deltaglider::{BoxError, Either, S3Error};
use futures_util::StreamExt;
use http::request::Parts;
use http::{Request, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use worker::{Data, FixedLengthStream};

/// A response body of [`R2Service`](crate::R2Service): bytes it built, or the stream of an
/// R2 object, which the Worker hands to the runtime untouched when the layer passes it on.
#[derive(Debug)]
pub struct R2Body(Kind);

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Stream(worker::Body),
}

/// What the Worker sends: bytes, or a JavaScript stream.
pub(crate) enum Outgoing {
    Bytes(Bytes),
    Stream(worker::web_sys::ReadableStream),
}

/// Reading an R2 object's stream failed.
#[derive(Debug, thiserror::Error)]
#[error("reading an R2 object failed: {0}")]
pub struct StreamError(String);

impl R2Body {
    /// A body of exactly `bytes`.
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        Self(Kind::Full(Some(bytes.into())))
    }

    /// No body.
    pub(crate) fn empty() -> Self {
        Self(Kind::Full(None))
    }

    /// The body of an R2 object (`None`: a body-less result).
    pub(crate) fn object(body: Option<worker::ObjectBody<'_>>) -> Result<Self, S3Error> {
        let Some(body) = body else {
            return Ok(Self::empty());
        };
        match body.response_body().map_err(|e| r2_failed("reading", &e))? {
            worker::ResponseBody::Empty => Ok(Self::empty()),
            worker::ResponseBody::Body(bytes) => Ok(Self::full(bytes)),
            worker::ResponseBody::Stream(stream) => {
                Ok(Self(Kind::Stream(worker::Body::new(stream))))
            }
        }
    }

    pub(crate) fn into_outgoing(self) -> Outgoing {
        match self.0 {
            Kind::Full(bytes) => Outgoing::Bytes(bytes.unwrap_or_default()),
            Kind::Stream(body) => match body.into_inner() {
                Some(stream) => Outgoing::Stream(stream),
                None => Outgoing::Bytes(Bytes::new()),
            },
        }
    }
}

impl Body for R2Body {
    type Data = Bytes;
    type Error = StreamError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamError>>> {
        match &mut self.0 {
            Kind::Full(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Kind::Stream(body) => Pin::new(body)
                .poll_frame(cx)
                .map_err(|e| StreamError(e.to_string())),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Full(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Kind::Stream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(body) => body.size_hint(),
        }
    }
}

/// An R2 call failed while `doing` something: its S3 error.
pub(crate) fn r2_failed(doing: &str, error: &worker::Error) -> S3Error {
    crate::errors::from_r2(doing, &error.to_string())
}

/// The most a request body without a declared length may hold (Workers accept at most
/// 100 MB per request anyway).
const UNDECLARED_LIMIT: usize = 100 << 20;

/// Turns a request's body into a value for R2, with the request's headers. Bodies the
/// layer built are handed over as they are; a client's body streams through when its
/// length is declared (R2 needs the length up front) and is read whole otherwise. Bodies
/// arrive plain and verified: the ingest in front removed any `aws-chunked` framing.
pub(crate) async fn into_data<B>(request: Request<Either<B>>) -> Result<(Parts, Data), S3Error>
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let data = match body.into_full() {
        Ok(bytes) if bytes.is_empty() => Data::Empty,
        // Without a copy when the layer holds no other reference to the bytes.
        Ok(bytes) => Data::Bytes(Vec::from(bytes)),
        Err(body) => stream_data(body, content_length(&parts.headers)).await?,
    };
    Ok((parts, data))
}

async fn stream_data<B>(body: B, length: Option<u64>) -> Result<Data, S3Error>
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    match length {
        Some(0) => Ok(Data::Empty),
        Some(length) => {
            let stream = body.into_data_stream().map(|chunk| {
                chunk
                    .map(|b| b.to_vec())
                    .map_err(|e| worker::Error::RustError(e.into().to_string()))
            });
            Ok(Data::Stream(FixedLengthStream::wrap(stream, length)))
        }
        None => {
            let bytes = read_limited(body, UNDECLARED_LIMIT).await?;
            Ok(Data::Bytes(Vec::from(bytes)))
        }
    }
}

/// Reads a whole request body (an XML document, an undeclared upload) up to `limit`.
pub(crate) async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, S3Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(S3Error::new(
            "IncompleteBody",
            StatusCode::BAD_REQUEST,
            format!("reading the request body failed: {e}"),
        )),
    }
}
