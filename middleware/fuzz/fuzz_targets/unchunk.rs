//! `aws-chunked` decoding (`deltaglider::unchunk::unchunk`).
//!
//! Input: flags (bit 0: build a valid encoding of the rest; bit 1: with a CRC32 trailer;
//! bit 2: a wrong trailer; bit 3: signed-chunk syntax), a frame step, a declared length
//! (u16; raw mode only), then the payload (valid mode) or the raw body.
//!
//! Checks: no panic; the result does not depend on how the body is split into frames; an
//! accepted body is exactly the declared length; a valid encoding decodes to its payload,
//! and a wrong trailer is refused.
#![no_main]

mod common;

use bytes::Bytes;
use common::{Input, base64, run};
use http::Request;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use libfuzzer_sys::fuzz_target;

const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const SIG: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Decodes `body` sent as frames of `step` bytes (all at once for 0).
fn decode(headers: &[(&str, String)], body: &[u8], step: usize) -> Result<Vec<u8>, String> {
    let mut request = Request::builder().method("PUT").uri("/b/k");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = if step == 0 {
        vec![Ok(Frame::data(Bytes::copy_from_slice(body)))]
    } else {
        body.chunks(step)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect()
    };
    let request = request
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .expect("request");
    let request = deltaglider::unchunk::unchunk(request).map_err(|e| e.code().to_owned())?;
    run(request.into_body().collect())
        .map(|c| c.to_bytes().to_vec())
        .map_err(|e| e.to_string())
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
    let (valid, trailer, wrong, signed) = (
        flags & 1 != 0,
        flags & 2 != 0,
        flags & 4 != 0,
        flags & 8 != 0,
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
    let whole = decode(&headers, &body, 0);
    let split = decode(&headers, &body, step);
    assert_eq!(
        whole.as_ref().ok(),
        split.as_ref().ok(),
        "the result depends on the framing"
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
