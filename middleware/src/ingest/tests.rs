//! Tests: the head checks as a table, bodies decoded and verified through the service in
//! both modes (read whole, streamed with the end held back), and proptests over random
//! framings signed by the real `aws-sigv4` crate.

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::SigningSettings;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::http::Headers;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use proptest::prelude::*;
use tower::ServiceExt;
use tower_layer::Layer;

use super::engine::Engine;
use super::plan::Plan;
use super::verify::{Expected, Verifier};
use super::{IngestBody, IngestLayer};
use crate::body::BoxError;
use crate::s3::checksum::{ALGORITHMS, Running, compute};
use crate::sigv4::chunked::{ChunkSigning, SignedPayload};

type Pieces =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, BoxError>>>>;

/// A body yielding `body` cut at `splits` (sorted positions) as separate frames.
fn pieces(body: &[u8], splits: &[usize]) -> Pieces {
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
fn block_on<F: Future>(future: F) -> F::Output {
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
struct Seen {
    headers: HeaderMap,
    data: Vec<u8>,
    trailers: Option<HeaderMap>,
    end: Option<String>,
}

#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    code: Option<String>,
    seen: Option<Seen>,
}

impl Outcome {
    #[track_caller]
    fn assert_refused(&self, code: &str, status: u16) {
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
    fn assert_passed(&self, payload: &[u8]) -> &Seen {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        let seen = self.seen.as_ref().expect("inner called");
        assert_eq!(seen.end, None, "{self:?}");
        assert_eq!(seen.data, payload);
        seen
    }
}

/// Sends `request` through an `IngestLayer` with this buffer limit, over a service that
/// reads the whole body and answers 200 (or 500 if the body failed, as a backend would).
fn send<B>(limit: u64, request: Request<B>) -> Outcome
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
const LIMITS: [u64; 2] = [8 << 20, 0];

fn framed(chunks: &[&[u8]], trailers: &[(&str, &str)]) -> Vec<u8> {
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
fn sdk_cpp_put(payload_len: usize, trailer: Option<&str>) -> http::request::Builder {
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

#[test]
fn every_trailer_algorithm_is_checked_and_passed_on() {
    let payload = b"hello world";
    for limit in LIMITS {
        for algorithm in ALGORITHMS {
            let name = format!("x-amz-checksum-{algorithm}");
            let good = compute(algorithm, payload).expect("known");
            let body = framed(&[b"hello", b" world"], &[(&name, &good)]);
            let r = sdk_cpp_put(11, Some(&name))
                .body(pieces(&body, &[3, 9]))
                .expect("request");
            let outcome = send(limit, r);
            let seen = outcome.assert_passed(payload);
            assert_eq!(seen.headers["content-length"], "11");
            for gone in [
                "transfer-encoding",
                "x-amz-trailer",
                "x-amz-decoded-content-length",
            ] {
                assert!(!seen.headers.contains_key(gone), "{gone}");
            }
            assert!(!seen.headers.contains_key("content-encoding"));
            // Read whole: a header; streamed: a trailers frame.
            let passed_on = match limit {
                0 => seen.trailers.as_ref().expect("trailers frame")[&name].clone(),
                _ => seen.headers[&name].clone(),
            };
            assert_eq!(passed_on, good.as_str());

            let bad = compute(algorithm, b"hello worle").expect("known");
            let body = framed(&[b"hello", b" world"], &[(&name, &bad)]);
            let r = sdk_cpp_put(11, Some(&name))
                .body(pieces(&body, &[]))
                .expect("request");
            let outcome = send(limit, r);
            if limit == 0 {
                // Streamed: the inner service read an error in place of the last bytes.
                assert_eq!(outcome.code.as_deref(), Some("BadDigest"), "{outcome:?}");
                let seen = outcome.seen.as_ref().expect("inner called");
                assert!(
                    seen.data.len() < payload.len(),
                    "{algorithm}: all data was sent"
                );
                assert!(
                    seen.end
                        .as_deref()
                        .is_some_and(|e| e.starts_with("BadDigest"))
                );
            } else {
                outcome.assert_refused("BadDigest", 400);
            }
        }
    }
}

#[test]
fn a_trailer_announced_but_missing_or_unannounced_is_refused() {
    let body = framed(&[b"hello"], &[]);
    let r = sdk_cpp_put(5, Some("x-amz-checksum-crc64nvme"))
        .body(pieces(&body, &[]))
        .expect("request");
    send(1 << 20, r).assert_refused("IncompleteBody", 400);
    let crc = compute("crc32", b"hello").expect("known");
    let body = framed(&[b"hello"], &[("x-amz-checksum-crc32", &crc)]);
    let r = sdk_cpp_put(5, None)
        .body(pieces(&body, &[]))
        .expect("request");
    send(1 << 20, r).assert_refused("IncompleteBody", 400);
}

#[test]
fn plain_bodies_are_checked_against_every_header() {
    let md5 = |data: &[u8]| {
        let mut hasher = deltaglider_codec::Md5::new();
        hasher.update(data);
        crate::s3::content_md5::base64_encode(hasher.finish().as_bytes())
    };
    let sha = |data: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
    let xml = b"<Delete><Object><Key>a</Key></Object></Delete>";
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("content-md5", "POST", md5(b"other"), "BadDigest"),
        ("content-md5", "PUT", md5(b"other"), "BadDigest"),
        ("content-md5", "PUT", "not-an-md5".into(), "InvalidDigest"),
        (
            "x-amz-content-sha256",
            "POST",
            sha(b"other"),
            "XAmzContentSHA256Mismatch",
        ),
        (
            "x-amz-checksum-crc32c",
            "PUT",
            compute("crc32c", b"x").expect("known"),
            "BadDigest",
        ),
    ];
    for limit in LIMITS {
        for (name, method, value, code) in &cases {
            let r = Request::builder()
                .method(*method)
                .uri("/bucket?delete")
                .header("content-length", xml.len())
                .header(*name, value)
                .body(pieces(xml, &[10]))
                .expect("request");
            let outcome = send(limit, r);
            assert_eq!(
                outcome.code.as_deref(),
                Some(*code),
                "{name} {limit}: {outcome:?}"
            );
            if let Some(seen) = &outcome.seen {
                assert!(
                    seen.data.len() < xml.len() && seen.end.is_some(),
                    "{seen:?}"
                );
            }
        }
        let r = Request::post("/bucket?delete")
            .header("content-length", xml.len())
            .header("content-md5", md5(xml))
            .header("x-amz-content-sha256", sha(xml))
            .body(pieces(xml, &[10]))
            .expect("request");
        let outcome = send(limit, r);
        assert_eq!(
            outcome.assert_passed(xml).headers["x-amz-content-sha256"],
            sha(xml)
        );
    }
}

#[test]
fn bodies_longer_or_shorter_than_declared_are_incomplete() {
    for limit in LIMITS {
        for (declared, body) in [(4, &b"hello"[..]), (6, b"hello")] {
            let r = Request::put("/bucket/key")
                .header("content-length", declared)
                .body(pieces(body, &[2]))
                .expect("request");
            let outcome = send(limit, r);
            assert_eq!(
                outcome.code.as_deref(),
                Some("IncompleteBody"),
                "{outcome:?}"
            );
            if let Some(seen) = &outcome.seen {
                assert!((seen.data.len() as u64) < declared, "{seen:?}");
            }
        }
    }
}

#[test]
fn bad_heads_are_refused_before_the_body() {
    let put = || Request::put("/bucket/key.txt");
    let checksum = compute("crc32", b"hello").expect("known");
    let cases = [
        (
            put()
                .header("content-length", "5")
                .header("transfer-encoding", "chunked"),
            "InvalidRequest",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-checksum-crc32", checksum.as_str())
                .header("x-amz-checksum-sha1", "AAAA"),
            "InvalidRequest",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-checksum-crc32", checksum.as_str())
                .header("x-amz-checksum-crc32", checksum.as_str()),
            "InvalidRequest",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-trailer", "x-amz-checksum-crc32"),
            "InvalidRequest",
            400,
        ),
        (
            sdk_cpp_put(5, Some("x-amz-checksum-crc32")).header("x-amz-checksum-sha256", "AAAA"),
            "InvalidRequest",
            400,
        ),
        (
            sdk_cpp_put(5, Some("x-amz-checksum-md5")),
            "InvalidArgument",
            400,
        ),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-meta-big", "m".repeat(3000)),
            "MetadataTooLarge",
            400,
        ),
        (
            put().header("content-encoding", "aws-chunked"),
            "MissingContentLength",
            411,
        ),
        (put(), "MissingContentLength", 411),
        (
            put()
                .header("content-length", "5")
                .header("x-amz-content-sha256", "nope"),
            "InvalidArgument",
            400,
        ),
    ];
    for (builder, code, status) in cases {
        // A body of unknown length, as over HTTP chunked transfer.
        let r = builder.body(pieces(b"hello", &[1])).expect("request");
        send(1 << 20, r).assert_refused(code, status);
    }
}

#[test]
fn the_streamed_end_is_held_back_until_verified() {
    // A backend that has read Content-Length bytes considers the upload complete: it must
    // never get there before the checks passed.
    let payload = vec![7u8; 100_000];
    let good = compute("sha256", &payload).expect("known");
    let chunks: Vec<&[u8]> = payload.chunks(8192).collect();
    let name = "x-amz-checksum-sha256";
    let body = framed(&chunks, &[(name, "AAAA")]);
    let r = sdk_cpp_put(payload.len(), Some(name))
        .body(pieces(&body, &[100, 5000, 50_000]))
        .expect("request");
    let outcome = send(0, r);
    assert_eq!(outcome.code.as_deref(), Some("BadDigest"));
    let seen = outcome.seen.expect("inner called");
    assert!(seen.data.len() < payload.len() && seen.end.is_some());
    let body = framed(&chunks, &[(name, &good)]);
    let r = sdk_cpp_put(payload.len(), Some(name))
        .body(pieces(&body, &[100, 5000, 50_000]))
        .expect("request");
    send(0, r).assert_passed(&payload);
}

const AMZ_DATE: &str = "20231114T221320Z";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

/// A body framed in `chunks`, each signed by `aws-sigv4`, chained on [`SEED`]; with a
/// signed crc32 trailer if `trailer`.
fn signed_body(chunks: &[&[u8]], trailer: Option<&str>) -> Vec<u8> {
    let identity: Identity = Credentials::new("AKID", SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .settings(SigningSettings::default())
        .build()
        .expect("params");
    let mut previous = SEED.to_owned();
    let mut body = Vec::new();
    for chunk in chunks.iter().chain([&&b""[..]]) {
        let signature = v4::sign_chunk(&Bytes::copy_from_slice(chunk), &previous, &params)
            .expect("chunk signature")
            .signature()
            .to_owned();
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = signature;
    }
    if let Some(value) = trailer {
        let mut trailers = Headers::new();
        trailers.insert("x-amz-checksum-crc32", value.to_owned());
        let signature = v4::sign_trailer(&trailers, &previous, &params)
            .expect("trailer signature")
            .signature()
            .to_owned();
        body.extend_from_slice(format!("x-amz-checksum-crc32:{value}\r\n").as_bytes());
        body.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

/// Decodes `body` cut at `splits` with the engine: the payload, or the error code.
fn decode(
    body: &[u8],
    splits: &[usize],
    declared: u64,
    signed: Option<bool>,
    crc32_trailer: bool,
) -> Result<Vec<u8>, &'static str> {
    let signing =
        signed.map(|trailer| ChunkSigning::for_tests(SECRET, AMZ_DATE, "us-east-1", SEED, trailer));
    let checksum = crc32_trailer.then(|| Expected {
        running: Running::new("crc32").expect("known"),
        header: None,
        trailer: true,
    });
    let mut verifier = Verifier::default();
    verifier.declared = Some(declared);
    verifier.checksum = checksum;
    let mut engine = Engine::new(Plan {
        chunked: Some(signing),
        verifier,
    });
    let mut out = Vec::new();
    let mut start = 0;
    for end in splits.iter().copied().chain([body.len()]) {
        engine.push(Bytes::copy_from_slice(&body[start..end]));
        start = end;
        while let Some(data) = engine.next().map_err(|e| e.code())? {
            out.extend_from_slice(&data);
        }
    }
    engine.finish().map_err(|e| e.code())?;
    Ok(out)
}

#[test]
fn a_signed_trailer_is_required_and_checked() {
    let crc = compute("crc32", b"hello world").expect("known");
    let body = signed_body(&[b"hello", b" world"], Some(&crc));
    assert_eq!(
        decode(&body, &[], 11, Some(true), true),
        Ok(b"hello world".to_vec())
    );
    // Signed without the trailer: the trailer lines are not the signer's.
    assert!(decode(&body, &[], 11, Some(false), true).is_err());
    let bare = signed_body(&[b"hello", b" world"], None);
    assert_eq!(
        decode(&bare, &[], 11, Some(true), false),
        Err("IncompleteBody")
    );
    // Anonymous (no signing material): decoded, signatures not checked.
    assert_eq!(
        decode(&body, &[], 11, None, true),
        Ok(b"hello world".to_vec())
    );
}

#[test]
fn signed_payload_extension_is_used_for_presigned_hashes() {
    let body = b"payload";
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"other").into();
    let mut r = Request::put("/bucket/key")
        .header("content-length", body.len())
        .body(pieces(body, &[]))
        .expect("request");
    r.extensions_mut().insert(SignedPayload::Sha256(digest));
    send(1 << 20, r).assert_refused("XAmzContentSHA256Mismatch", 400);
}

fn payload_and_splits() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, Vec<usize>)> {
    prop::collection::vec(any::<u8>(), 0..3000).prop_flat_map(|payload| {
        let len = payload.len();
        (
            Just(payload),
            prop::collection::vec(1..400usize, 0..12),
            prop::collection::vec(0..len + 2000, 0..8),
        )
    })
}

fn cut<'a>(payload: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = payload;
    for &size in sizes
        .iter()
        .cycle()
        .take(if sizes.is_empty() { 0 } else { 10_000 })
    {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    if !rest.is_empty() {
        chunks.push(rest);
    }
    chunks
}

fn sorted_within(mut splits: Vec<usize>, len: usize) -> Vec<usize> {
    splits.iter_mut().for_each(|s| *s = (*s).min(len));
    splits.sort_unstable();
    splits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_framing_decodes_to_the_payload((payload, sizes, splits) in payload_and_splits(),
                                          signed in any::<bool>(), trailer in any::<bool>()) {
        let chunks = cut(&payload, &sizes);
        let crc = compute("crc32", &payload).expect("known");
        let body = if signed {
            signed_body(&chunks, trailer.then_some(crc.as_str()))
        } else if trailer {
            framed(&chunks, &[("x-amz-checksum-crc32", &crc)])
        } else {
            framed(&chunks, &[])
        };
        let splits = sorted_within(splits, body.len());
        let signing = signed.then_some(trailer);
        prop_assert_eq!(decode(&body, &splits, payload.len() as u64, signing, trailer), Ok(payload));
    }

    #[test]
    fn any_single_byte_corruption_is_refused((payload, sizes, splits) in payload_and_splits(),
                                             signed in any::<bool>(), at in any::<prop::sample::Index>(),
                                             flip in 1..=255u8) {
        // Signed, or carrying a checksum trailer: every byte of the body is covered.
        let chunks = cut(&payload, &sizes);
        let crc = compute("crc32", &payload).expect("known");
        let body = if signed {
            signed_body(&chunks, Some(&crc))
        } else {
            framed(&chunks, &[("x-amz-checksum-crc32", &crc)])
        };
        let mut corrupt = body.clone();
        let at = at.index(corrupt.len());
        // Header names are case-insensitive: a trailer name with one letter's case changed
        // names the same trailer (and its signature covers names lower-cased).
        let in_trailer_name = ["x-amz-checksum-crc32:", "x-amz-trailer-signature:"]
            .iter()
            .filter_map(|name| {
                body.windows(name.len())
                    .position(|w| w == name.as_bytes())
                    .map(|start| start..start + name.len() - 1)
            })
            .any(|names| names.contains(&at));
        prop_assume!(!(in_trailer_name && flip == 0x20 && body[at].is_ascii_alphabetic()));
        corrupt[at] ^= flip;
        let splits = sorted_within(splits, corrupt.len());
        let signing = signed.then_some(true);
        let decoded = decode(&corrupt, &splits, payload.len() as u64, signing, true);
        prop_assert!(decoded.is_err(), "byte {} of {:?} flipped and accepted", at, String::from_utf8_lossy(&body));
    }
}
