//! What the ingest tests share: bodies cut into frames, a service that records what it
//! read, and requests as real clients frame them.

pub(super) use std::convert::Infallible;
pub(super) use std::future::Future;
pub(super) use std::sync::{Arc, Mutex};
pub(super) use std::task::{Context, Poll, Waker};
pub(super) use std::time::{Duration, UNIX_EPOCH};

pub(super) use aws_credential_types::Credentials;
pub(super) use aws_sigv4::http_request::SigningSettings;
pub(super) use aws_sigv4::sign::v4;
pub(super) use aws_smithy_runtime_api::client::identity::Identity;
pub(super) use aws_smithy_runtime_api::http::Headers;
pub(super) use bytes::Bytes;
pub(super) use http::{HeaderMap, Request, Response, StatusCode};
pub(super) use http_body::Frame;
pub(super) use http_body_util::{BodyExt, StreamBody};
pub(super) use proptest::prelude::*;
pub(super) use tower::ServiceExt;
pub(super) use tower_layer::Layer;

pub(super) use crate::body::BoxError;
pub(super) use crate::ingest::engine::Engine;
pub(super) use crate::ingest::plan::Plan;
pub(super) use crate::ingest::verify::{Expected, Verifier};
pub(super) use crate::ingest::{IngestBody, IngestLayer};
pub(super) use crate::s3::checksum::{ALGORITHMS, Running, compute};
pub(super) use crate::sigv4::chunked::{ChunkSigning, SignedPayload};

pub(super) type Pieces =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, BoxError>>>>;

/// A body yielding `body` cut at `splits` (sorted positions) as separate frames.
pub(super) fn pieces(body: &[u8], splits: &[usize]) -> Pieces {
    let body = Bytes::copy_from_slice(body);
    let mut frames = Vec::new();
    let mut start = 0;
    for &at in splits {
        frames.push(Ok(Frame::data(body.slice(start..at))));
        start = at;
    }
    frames.push(Ok(Frame::data(body.slice(start..))));
    StreamBody::new(futures_util::stream::iter(frames))
}

/// Runs a future whose bodies are always ready.
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("test bodies are always ready"),
    }
}

/// What the inner service read: headers, data, trailers, and how the body ended.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub(super) headers: HeaderMap,
    pub(super) data: Vec<u8>,
    pub(super) trailers: Option<HeaderMap>,
    pub(super) end: Option<String>,
}

#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) status: StatusCode,
    pub(super) code: Option<String>,
    pub(super) seen: Option<Seen>,
}

impl Outcome {
    #[track_caller]
    pub(super) fn assert_refused(&self, code: &str, status: u16) {
        assert_eq!(
            (self.code.as_deref(), self.status.as_u16()),
            (Some(code), status),
            "{self:?}"
        );
        assert!(
            self.seen.is_none(),
            "the inner service was called: {self:?}"
        );
    }

    #[track_caller]
    pub(super) fn assert_passed(&self, payload: &[u8]) -> &Seen {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        let seen = self.seen.as_ref().expect("inner called");
        assert_eq!(seen.end, None, "{self:?}");
        assert_eq!(seen.data, payload);
        seen
    }
}

/// Sends `request` through an `IngestLayer` with this buffer limit, over a service that
/// reads the whole body and answers 200 (or 500 if the body failed, as a backend would).
pub(super) fn send<B>(limit: u64, request: Request<B>) -> Outcome
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(move |request: Request<IngestBody<B>>| {
        let record = Arc::clone(&record);
        async move {
            let (parts, body) = request.into_parts();
            let mut body = std::pin::pin!(body);
            let mut seen = Seen {
                headers: parts.headers,
                ..Seen::default()
            };
            while let Some(frame) = body.frame().await {
                match frame {
                    Err(e) => {
                        seen.end = Some(e.to_string());
                        break;
                    }
                    Ok(frame) => match frame.into_data() {
                        Ok(data) => seen.data.extend_from_slice(&data),
                        Err(frame) => seen.trailers = frame.into_trailers().ok(),
                    },
                }
            }
            let status = if seen.end.is_some() { 500 } else { 200 };
            *record.lock().expect("lock") = Some(seen);
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::from_u16(status).expect("status");
            Ok::<_, Infallible>(response)
        }
    });
    let service = IngestLayer::new().buffer_limit(limit).layer(inner);
    let response = block_on(service.oneshot(request)).expect("infallible");
    let code = response
        .headers()
        .get("x-amz-error-code")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let seen = seen.lock().expect("lock").take();
    Outcome {
        status: response.status(),
        code,
        seen,
    }
}

/// Both modes: read whole, and streamed from the first byte.
pub(super) const LIMITS: [u64; 2] = [8 << 20, 0];

pub(super) fn framed(chunks: &[&[u8]], trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for chunk in chunks.iter().chain([&&b""[..]]) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
    }
    for (name, value) in trailers {
        body.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

/// What the AWS SDK for C++ sends for UploadPart (pyarrow): aws-chunked over chunked
/// transfer, an unsigned payload, a trailing checksum.
pub(super) fn sdk_cpp_put(payload_len: usize, trailer: Option<&str>) -> http::request::Builder {
    let mut builder = Request::put("/bucket/key.bin?partNumber=1&uploadId=u")
        .header("content-encoding", "aws-chunked")
        .header("transfer-encoding", "chunked")
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .header("x-amz-decoded-content-length", payload_len.to_string());
    if let Some(trailer) = trailer {
        builder = builder.header("x-amz-trailer", trailer);
    }
    builder
}
