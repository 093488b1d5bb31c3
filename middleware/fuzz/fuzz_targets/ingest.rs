//! Request-body ingest (`deltaglider::ingest::IngestLayer`): `aws-chunked` decoding in the
//! `STREAMING-*` forms of `x-amz-content-sha256`, trailers and their checksums, lengths.
//! No SigV4 layer in front, so chunk signatures are parsed but not checked.
//!
//! Input: flags (bit 0: build a valid encoding of the rest; bit 1: with a CRC32 trailer;
//! bit 2: a wrong trailer; bit 3: signed-chunk syntax; bit 4: the split body streams
//! through the layer instead of being read whole), a frame step, a declared length (u16;
//! raw mode only), then the payload (valid mode) or the raw body.
//!
//! Checks: no panic; the outcome (payload, or S3 error code) does not depend on how the
//! body is split into frames nor on whether it is buffered or streamed; an accepted body
//! is exactly the declared length; a valid encoding decodes to its payload, and a wrong
//! trailer is refused.
#![no_main]

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{Input, base64, run};
use deltaglider::ingest::{DEFAULT_BUFFER_LIMIT, IngestBody, IngestLayer};
use http::{Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use tower_layer::Layer;

const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const SIG: &str = "0000000000000000000000000000000000000000000000000000000000000000";

type Frames =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// Sends `body` as frames of `step` bytes (all at once for 0) through an `IngestLayer`
/// buffering up to `limit` bytes (0: every body of known length streams), over a service
/// that reads the whole body. The payload it read, or the S3 error code of the answer.
fn decode(
    headers: &[(&str, String)],
    body: &[u8],
    step: usize,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let mut request = Request::builder().method("PUT").uri("/b/k");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = if step == 0 {
        vec![Ok(Frame::data(Bytes::copy_from_slice(body)))]
    } else {
        body.chunks(step)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect()
    };
    let request = request
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .expect("request");
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(move |request: Request<IngestBody<Frames>>| {
        let record = Arc::clone(&record);
        async move {
            let read = match request.into_body().collect().await {
                Ok(c) => Ok(c.to_bytes().to_vec()),
                Err(e) => Err(e.to_string()),
            };
            let status = if read.is_ok() { 200 } else { 500 };
            *record.lock().expect("lock") = Some(read);
            let mut response = Response::new(String::new());
            *response.status_mut() = http::StatusCode::from_u16(status).expect("status");
            Ok::<_, Infallible>(response)
        }
    });
    let service = IngestLayer::new().buffer_limit(limit).layer(inner);
    let response = run(service.oneshot(request)).expect("infallible");
    let seen = seen.lock().expect("lock").take();
    if let Some(code) = response.headers().get("x-amz-error-code") {
        return Err(code.to_str().expect("ascii code").to_owned());
    }
    assert_eq!(response.status(), 200, "an answer without an S3 error code");
    match seen {
        Some(Ok(data)) => Ok(data),
        other => panic!("200 without the service reading the body whole: {other:?}"),
    }
}

/// A valid encoding of `payload` in chunks of `size` bytes.
fn encode(payload: &[u8], size: usize, signed: bool, trailer: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    let ext = if signed {
        format!(";chunk-signature={SIG}")
    } else {
        String::new()
    };
    for chunk in payload.chunks(size.max(1)) {
        out.extend_from_slice(format!("{:x}{ext}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("0{ext}\r\n").as_bytes());
    if let Some(value) = trailer {
        out.extend_from_slice(format!("x-amz-checksum-crc32:{value}\r\n").as_bytes());
        if signed {
            out.extend_from_slice(format!("x-amz-trailer-signature:{SIG}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    let step = usize::from(input.byte());
    let declared = input.u16();
    let (valid, trailer, wrong, signed, stream) = (
        flags & 1 != 0,
        flags & 2 != 0,
        flags & 4 != 0,
        flags & 8 != 0,
        flags & 16 != 0,
    );
    let rest = input.rest();
    let sha = match (signed, trailer) {
        (true, true) => SIGNED_TRAILER,
        (true, false) => SIGNED,
        (false, _) => UNSIGNED_TRAILER,
    };
    let (body, declared) = if valid {
        let mut crc = crc32fast::hash(rest).to_be_bytes();
        if wrong {
            crc[0] ^= 1;
        }
        let value = trailer.then(|| base64(&crc));
        let size = step.max(1) * 3;
        (encode(rest, size, signed, value.as_deref()), rest.len())
    } else {
        (rest.to_vec(), usize::from(declared))
    };
    let mut headers = vec![
        ("content-encoding", "aws-chunked".to_owned()),
        ("x-amz-content-sha256", sha.to_owned()),
        ("x-amz-decoded-content-length", declared.to_string()),
    ];
    if trailer {
        headers.push(("x-amz-trailer", "x-amz-checksum-crc32".to_owned()));
    }
    let whole = decode(&headers, &body, 0, DEFAULT_BUFFER_LIMIT);
    let split = decode(
        &headers,
        &body,
        step,
        if stream { 0 } else { DEFAULT_BUFFER_LIMIT },
    );
    assert_eq!(
        whole, split,
        "the outcome depends on the framing or on streaming"
    );
    if let Ok(out) = &whole {
        assert_eq!(out.len(), declared, "accepted a body of the wrong length");
    }
    if valid {
        if trailer && wrong {
            assert!(whole.is_err(), "accepted a wrong trailer checksum");
        } else {
            assert_eq!(
                whole.as_deref(),
                Ok(rest),
                "refused or changed a valid encoding"
            );
        }
    }
});
