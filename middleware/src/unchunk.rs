//! Streaming removal of `aws-chunked` framing (SigV4 streaming uploads).
//!
//! A client's `aws-chunked` body cannot be forwarded once its request is re-signed (for
//! example with `UNSIGNED-PAYLOAD` for a real S3 server, or handed to a backend that wants
//! the plain object): the chunk signatures and the trailer belong to the client's
//! signature. [`unchunk`] turns such a request into an ordinary one — `Content-Length` is
//! the decoded length, the framing headers are gone — whose body yields the payload as it
//! arrives, in memory bounded by the inner body's frames (the layer's own decoder, used
//! on PUT, buffers the whole body instead).
//!
//! The body ends successfully only once the framing was complete, the payload had exactly
//! the announced length and a trailing `x-amz-checksum-*` matched; otherwise it yields an
//! error, so a consumer sending it on aborts the request and nothing partial is stored.
//! The last payload bytes are held back until then, so the consumer never sees the full
//! `Content-Length` of an invalid upload. Chunk and trailer signatures are not checked
//! here: that is the business of the SigV4 layer in front.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::body::{BodyError, BoxError};
use crate::checksum::{ALGORITHMS, Running};
use crate::chunked::is_aws_chunked;
use crate::error::S3Error;
use decoder::{Decoder, State};

mod decoder;

pin_project! {
    /// A request body with any `aws-chunked` framing removed (see [`unchunk`]).
    ///
    /// Its errors are those of the inner body, or an [`S3Error`] (rendered in the
    /// message, e.g. `IncompleteBody: …` or `BadDigest: …`) when the framing, the length or
    /// the trailing checksum is wrong.
    #[derive(Debug)]
    pub struct Unchunked<B> {
        #[pin]
        inner: Inner<B>,
    }
}

pin_project! {
    #[project = InnerProj]
    #[derive(Debug)]
    enum Inner<B> {
        Plain { #[pin] body: B },
        Chunked { #[pin] body: B, decoder: Decoder },
    }
}

/// Removes `aws-chunked` framing from `request`, if its body has any.
///
/// A request that is not `aws-chunked` keeps its headers and body untouched. Otherwise
/// `Content-Length` becomes `x-amz-decoded-content-length` (required: 411
/// `MissingContentLength` without it), `aws-chunked` leaves `Content-Encoding`, and
/// `x-amz-decoded-content-length`, `x-amz-trailer`, `x-amz-content-sha256` and
/// `Transfer-Encoding` are removed: the caller signs the new request itself. A trailer
/// announced in `x-amz-trailer` must be an `x-amz-checksum-*` of a known algorithm (400
/// `InvalidArgument` otherwise); the body verifies it.
pub fn unchunk<B>(request: Request<B>) -> Result<Request<Unchunked<B>>, S3Error> {
    let (mut parts, body) = request.into_parts();
    if !is_aws_chunked(&parts.headers) {
        let inner = Inner::Plain { body };
        return Ok(Request::from_parts(parts, Unchunked { inner }));
    }
    let headers = &mut parts.headers;
    let declared = match headers.get("x-amz-decoded-content-length") {
        None => {
            return Err(S3Error::new(
                "MissingContentLength",
                StatusCode::LENGTH_REQUIRED,
                "You must provide the Content-Length HTTP header.",
            ));
        }
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                S3Error::invalid_argument("x-amz-decoded-content-length is not a number")
            })?,
    };
    let checksum = announced_checksum(headers)?;
    strip_aws_chunked(headers);
    for name in [
        "x-amz-decoded-content-length",
        "x-amz-trailer",
        "x-amz-content-sha256",
    ] {
        headers.remove(name);
    }
    headers.remove(header::TRANSFER_ENCODING);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
    let decoder = Decoder::new(declared, checksum);
    let inner = Inner::Chunked { body, decoder };
    Ok(Request::from_parts(parts, Unchunked { inner }))
}

/// The hasher for the checksum trailer `x-amz-trailer` announces, if any.
fn announced_checksum(headers: &HeaderMap) -> Result<Option<Running>, S3Error> {
    let mut found: Option<Running> = None;
    for value in headers.get_all("x-amz-trailer") {
        let value = value
            .to_str()
            .map_err(|_| S3Error::invalid_argument("x-amz-trailer is not text"))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_ascii_lowercase();
            let running = name
                .strip_prefix("x-amz-checksum-")
                .filter(|alg| ALGORITHMS.contains(alg))
                .and_then(Running::new)
                .ok_or_else(|| {
                    S3Error::invalid_argument(format!("unsupported x-amz-trailer: {name}"))
                })?;
            if found
                .as_ref()
                .is_some_and(|f| f.algorithm() != running.algorithm())
            {
                return Err(S3Error::invalid_argument(
                    "x-amz-trailer announces more than one checksum",
                ));
            }
            found = Some(running);
        }
    }
    Ok(found)
}

/// Removes the `aws-chunked` coding from `Content-Encoding`, and the header if nothing
/// else is left.
fn strip_aws_chunked(headers: &mut HeaderMap) {
    let kept: Vec<HeaderValue> = headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .filter_map(|value| {
            let Ok(text) = value.to_str() else {
                return Some(value.clone());
            };
            let rest: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            HeaderValue::from_str(&rest.join(", "))
                .ok()
                .filter(|v| !v.is_empty())
        })
        .collect();
    headers.remove(header::CONTENT_ENCODING);
    for value in kept {
        headers.append(header::CONTENT_ENCODING, value);
    }
}

fn poll_chunked<B>(
    mut body: Pin<&mut B>,
    d: &mut Decoder,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BodyError>>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    loop {
        match d.state {
            State::Ended => return Poll::Ready(None),
            State::Verified => {
                d.state = State::Ended;
                return Poll::Ready(d.held.take().map(|data| Ok(Frame::data(data))));
            }
            _ => {}
        }
        match d.next_data() {
            Err(e) => return d.fail(e),
            Ok(Some(data)) if d.decoded == d.declared => d.held = Some(data),
            Ok(Some(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
            Ok(None) => match ready!(body.as_mut().poll_frame(cx)) {
                // Only data frames carry the framing; HTTP trailers are not aws-chunked's.
                Some(Ok(frame)) => d.input = frame.into_data().unwrap_or_default(),
                Some(Err(e)) => {
                    d.state = State::Ended;
                    d.held = None;
                    return Poll::Ready(Some(Err(BodyError::new(e))));
                }
                None => match d.finish() {
                    Ok(()) => d.state = State::Verified,
                    Err(e) => return d.fail(e),
                },
            },
        }
    }
}

impl<B> Body for Unchunked<B>
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
            InnerProj::Plain { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(BodyError::new))),
            InnerProj::Chunked { body, decoder } => poll_chunked(body, decoder, cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Plain { body } => body.is_end_stream(),
            Inner::Chunked { decoder, .. } => decoder.state == State::Ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Plain { body } => body.size_hint(),
            Inner::Chunked { decoder: d, .. } if d.state == State::Ended => SizeHint::with_exact(0),
            Inner::Chunked { decoder: d, .. } => {
                let held = d.held.as_ref().map_or(0, |h| h.len() as u64);
                let sent = d.decoded.saturating_sub(held);
                SizeHint::with_exact(d.declared.saturating_sub(sent))
            }
        }
    }
}

#[cfg(test)]
mod tests;
