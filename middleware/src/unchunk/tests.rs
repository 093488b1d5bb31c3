use std::future::Future;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full, StreamBody};
use proptest::prelude::*;

use super::*;
use crate::checksum::{ALGORITHMS, compute};

type Pieces =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, BoxError>>>>;

/// A body yielding `pieces` as separate frames.
fn pieces(pieces: Vec<Bytes>) -> Pieces {
    let frames: Vec<Result<Frame<Bytes>, BoxError>> =
        pieces.into_iter().map(|p| Ok(Frame::data(p))).collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

/// `body` cut at `splits` (sorted positions).
fn split(body: &[u8], splits: &[usize]) -> Vec<Bytes> {
    let body = Bytes::copy_from_slice(body);
    let mut out = Vec::new();
    let mut start = 0;
    for &at in splits {
        out.push(body.slice(start..at));
        start = at;
    }
    out.push(body.slice(start..));
    out
}

/// Runs a future whose body is always ready.
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

/// The data frames a body yields, and how it ended.
fn drain<B: Body<Data = Bytes, Error = BodyError>>(body: B) -> (Vec<Bytes>, Result<(), String>) {
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    loop {
        match block_on(body.frame()) {
            None => return (out, Ok(())),
            Some(Err(e)) => return (out, Err(e.to_string())),
            Some(Ok(frame)) => out.push(frame.into_data().expect("only data frames")),
        }
    }
}

fn chunked_request(decoded_len: usize, trailer: Option<&str>) -> http::request::Builder {
    let mut builder = Request::put("/bucket/key")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", decoded_len.to_string())
        .header("content-length", "9999");
    builder = match trailer {
        Some(t) => builder
            .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
            .header("x-amz-trailer", t),
        None => builder.header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    };
    builder
}

/// Decodes `body` cut at `splits`; the payload and how it ended.
fn decode_split(
    decoded_len: usize,
    trailer: Option<&str>,
    body: &[u8],
    splits: &[usize],
) -> (Vec<u8>, Result<(), String>) {
    let request = chunked_request(decoded_len, trailer)
        .body(pieces(split(body, splits)))
        .expect("request");
    let request = unchunk(request).expect("unchunk");
    let (frames, end) = drain(request.into_body());
    (frames.concat(), end)
}

fn decode(decoded_len: usize, trailer: Option<&str>, body: &[u8]) -> (Vec<u8>, Result<(), String>) {
    decode_split(decoded_len, trailer, body, &[])
}

const SIGNED: &[u8] = b"5;chunk-signature=abc\r\nhello\r\n\
    6;chunk-signature=def\r\n world\r\n0;chunk-signature=000\r\n\r\n";

fn with_trailer(algorithm: &str, value: &str) -> Vec<u8> {
    format!(
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\
         x-amz-checksum-{algorithm}:{value}\r\nx-amz-trailer-signature:sig\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn signed_framing_without_trailer() {
    assert_eq!(decode(11, None, SIGNED), (b"hello world".to_vec(), Ok(())));
    let body = b"5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(decode(5, None, body), (b"hello".to_vec(), Ok(())));
    assert_eq!(decode(0, None, b"0\r\n\r\n"), (Vec::new(), Ok(())));
}

#[test]
fn unsigned_with_trailer_every_algorithm() {
    assert_eq!(
        compute("crc32", b"hello world").as_deref(),
        Some("DUoRhQ==")
    );
    assert_eq!(
        compute("crc32c", b"hello world").as_deref(),
        Some("yZRlqg==")
    );
    for algorithm in ALGORITHMS {
        let trailer = format!("x-amz-checksum-{algorithm}");
        let good = compute(algorithm, b"hello world").expect("known");
        let (data, end) = decode(11, Some(&trailer), &with_trailer(algorithm, &good));
        assert_eq!(
            (data.as_slice(), end),
            (&b"hello world"[..], Ok(())),
            "{algorithm}"
        );
        let bad = compute(algorithm, b"hello worle").expect("known");
        let (data, end) = decode(11, Some(&trailer), &with_trailer(algorithm, &bad));
        let err = end.expect_err(algorithm);
        assert!(err.starts_with("BadDigest"), "{algorithm}: {err}");
        assert!(err.contains(&algorithm.to_uppercase()), "{err}");
        assert!(data.len() < 11, "{algorithm}: the whole payload was sent");
    }
}

#[test]
fn trailer_ends_without_final_crlf() {
    let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==";
    let trailer = Some("x-amz-checksum-crc32");
    assert_eq!(decode(11, trailer, body), (b"hello world".to_vec(), Ok(())));
    let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n";
    assert_eq!(decode(11, trailer, body), (b"hello world".to_vec(), Ok(())));
    assert_eq!(
        decode(5, None, b"5\r\nhello\r\n0\r\n"),
        (b"hello".to_vec(), Ok(()))
    );
}

#[test]
fn headers_are_rewritten() {
    let request = chunked_request(11, Some("x-amz-checksum-crc32"))
        .header("content-encoding", "gzip")
        .header("x-amz-meta-a", "b")
        .header("content-md5", "XrY7u+Ae7tCTyyK7j1rNww==")
        .header("transfer-encoding", "chunked")
        .body(pieces(vec![]))
        .expect("request");
    let request = unchunk(request).expect("unchunk");
    let h = request.headers();
    assert_eq!(h["content-length"], "11");
    let codings: Vec<_> = h.get_all("content-encoding").iter().collect();
    assert_eq!(codings, ["gzip"]);
    for gone in [
        "x-amz-decoded-content-length",
        "x-amz-trailer",
        "x-amz-content-sha256",
        "transfer-encoding",
    ] {
        assert!(!h.contains_key(gone), "{gone}");
    }
    assert_eq!(h["x-amz-meta-a"], "b");
    assert_eq!(h["content-md5"], "XrY7u+Ae7tCTyyK7j1rNww==");
    assert_eq!(request.body().size_hint().exact(), Some(11));

    let request = Request::put("/b/k")
        .header("content-encoding", "aws-chunked , gzip")
        .header("x-amz-decoded-content-length", "3")
        .body(pieces(vec![]))
        .expect("request");
    let request = unchunk(request).expect("unchunk");
    assert_eq!(request.headers()["content-encoding"], "gzip");

    let request = chunked_request(3, None)
        .body(pieces(vec![]))
        .expect("request");
    let request = unchunk(request).expect("unchunk");
    assert!(!request.headers().contains_key("content-encoding"));
}

#[test]
fn header_errors() {
    let request = Request::put("/b/k")
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .body(pieces(vec![]))
        .expect("request");
    let e = unchunk(request).expect_err("no decoded length");
    assert_eq!(
        (e.code(), e.status()),
        ("MissingContentLength", StatusCode::LENGTH_REQUIRED)
    );

    let request = Request::put("/b/k")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "ten")
        .body(pieces(vec![]))
        .expect("request");
    let e = unchunk(request).expect_err("bad decoded length");
    assert_eq!(
        (e.code(), e.status()),
        ("InvalidArgument", StatusCode::BAD_REQUEST)
    );

    for trailer in [
        "x-amz-checksum-md5",
        "x-amz-foo",
        "x-amz-checksum-crc32, x-amz-checksum-sha1",
    ] {
        let request = chunked_request(3, Some(trailer))
            .body(pieces(vec![]))
            .expect("request");
        assert_eq!(
            unchunk(request).expect_err(trailer).code(),
            "InvalidArgument"
        );
    }
}

#[test]
fn plain_body_passes_through() {
    let request = Request::put("/b/k")
        .header("content-length", "5")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("content-encoding", "gzip")
        .body(Full::new(Bytes::from_static(b"5\r\nab")))
        .expect("request");
    let headers: HeaderMap = request.headers().clone();
    let request = unchunk(request).expect("plain");
    assert_eq!(request.headers(), &headers);
    assert_eq!(request.body().size_hint().exact(), Some(5));
    assert!(!request.body().is_end_stream());
    let (frames, end) = drain(request.into_body());
    assert_eq!((frames.concat(), end), (b"5\r\nab".to_vec(), Ok(())));
}

#[test]
fn size_hint_and_end_of_stream() {
    let request = chunked_request(11, None)
        .body(pieces(split(SIGNED, &[25])))
        .expect("request");
    let mut body = unchunk(request).expect("unchunk").into_body();
    assert_eq!(body.size_hint().exact(), Some(11));
    assert!(!body.is_end_stream());
    let first = block_on(body.frame()).expect("frame").expect("data");
    assert_eq!(first.into_data().expect("data"), "he");
    assert_eq!(body.size_hint().exact(), Some(9));
    let (rest, end) = drain(&mut body);
    assert_eq!((rest.concat(), end), (b"llo world".to_vec(), Ok(())));
    assert!(body.is_end_stream());
    assert_eq!(body.size_hint().exact(), Some(0));
}

#[test]
fn every_split_gives_the_same_output() {
    let body = with_trailer("crc32", "DUoRhQ==");
    let trailer = Some("x-amz-checksum-crc32");
    let expected = (b"hello world".to_vec(), Ok(()));
    for i in 0..=body.len() {
        for j in i..=body.len() {
            assert_eq!(
                decode_split(11, trailer, &body, &[i, j]),
                expected,
                "{i} {j}"
            );
        }
    }
    let bytewise: Vec<usize> = (1..body.len()).collect();
    assert_eq!(decode_split(11, trailer, &body, &bytewise), expected);
    let bytewise: Vec<usize> = (1..SIGNED.len()).collect();
    assert_eq!(
        decode_split(11, None, SIGNED, &bytewise),
        (b"hello world".to_vec(), Ok(()))
    );
}

#[test]
fn truncated_bodies_fail_without_sending_everything() {
    let body = with_trailer("crc32", "DUoRhQ==");
    let trailer_end = body
        .windows(10)
        .position(|w| w == b"DUoRhQ==\r\n")
        .expect("trailer")
        + 8;
    for len in 0..trailer_end {
        let (data, end) = decode(11, Some("x-amz-checksum-crc32"), &body[..len]);
        assert!(end.is_err(), "prefix of {len} bytes accepted");
        assert!(
            data.len() < 11,
            "prefix of {len} bytes sent the whole payload"
        );
    }
    let err = decode(11, None, b"5\r\nhello\r\n6\r\n wor")
        .1
        .expect_err("truncated");
    assert!(err.contains("ended before its final chunk"), "{err}");
}

#[test]
fn malformed_framing_is_an_error() {
    let cases: [(&[u8], usize, &str); 8] = [
        (b"zz\r\nhello\r\n0\r\n\r\n", 5, "not hexadecimal"),
        (b"+5\r\nhello\r\n0\r\n\r\n", 5, "not hexadecimal"),
        (b"\r\n", 0, "not hexadecimal"),
        (b"3\r\nhello\r\n0\r\n\r\n", 5, "not followed by CRLF"),
        (b"5\nhello\r\n0\r\n\r\n", 5, "LF instead of CRLF"),
        (b"5\r\nhello\r\n0\r\n\r\nxyz", 5, "after the end"),
        (b"5\r\nhello\r\n0\r\nno colon\r\n\r\n", 5, "no colon"),
        (
            b"5\r\nhello\r\n0\r\nx-amz-checksum-sha1:abc\r\n\r\n",
            5,
            "not announced",
        ),
    ];
    for (body, len, message) in cases {
        let err = decode(len, None, body).1.expect_err(message);
        assert!(err.contains(message), "{err}");
    }
    let mut long = b"5;".to_vec();
    long.extend(std::iter::repeat_n(b'a', 5000));
    let err = decode(5, None, &long).1.expect_err("long line");
    assert!(err.contains("longer than 4096"), "{err}");
    let err = decode(5, Some("x-amz-checksum-crc32"), b"5\r\nhello\r\n0\r\n\r\n").1;
    assert!(
        err.expect_err("missing")
            .contains("x-amz-checksum-crc32 is missing")
    );
}

#[test]
fn length_must_match_the_declared_one() {
    let (data, end) = decode(10, None, SIGNED);
    assert!(end.expect_err("longer").contains("more than the 10 bytes"));
    assert!(data.len() < 10);
    let (data, end) = decode(12, None, SIGNED);
    assert!(
        end.expect_err("shorter")
            .contains("fewer than the 12 bytes")
    );
    assert!(data.len() < 12);
}

#[test]
fn inner_errors_pass_through() {
    let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
        Ok(Frame::data(Bytes::from_static(b"5\r\nhel"))),
        Err("connection reset".into()),
    ];
    let request = chunked_request(5, None)
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .expect("request");
    let (data, end) = drain(unchunk(request).expect("unchunk").into_body());
    assert_eq!(data.concat(), b"hel");
    assert_eq!(end, Err("connection reset".to_owned()));
}

/// A random payload framed in random chunks, signed or not, with a random trailer.
fn framed(payload: &[u8], sizes: &[usize], signed: bool, algorithm: Option<&str>) -> Vec<u8> {
    let ext = if signed {
        ";chunk-signature=0123abcd"
    } else {
        ""
    };
    let mut out = Vec::new();
    let mut rest = payload;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        out.extend_from_slice(format!("{n:x}{ext}\r\n").as_bytes());
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(format!("0{ext}\r\n").as_bytes());
    if let Some(algorithm) = algorithm {
        let value = compute(algorithm, payload).unwrap_or_default();
        out.extend_from_slice(format!("x-amz-checksum-{algorithm}:{value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

proptest! {
    #[test]
    fn random_framing_and_splits(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        sizes in proptest::collection::vec(1usize..80, 1..6),
        signed in any::<bool>(),
        algorithm in proptest::option::of(proptest::sample::select(ALGORITHMS.to_vec())),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let body = framed(&payload, &sizes, signed, algorithm);
        let mut splits: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
        splits.sort_unstable();
        let trailer = algorithm.map(|a| format!("x-amz-checksum-{a}"));
        let (data, end) = decode_split(payload.len(), trailer.as_deref(), &body, &splits);
        prop_assert_eq!(end, Ok(()));
        prop_assert_eq!(data, payload);
    }
}
