//! Signed `aws-chunked` bodies (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), framed
//! here by hand per the S3 documentation, with chunk signatures from `aws-sigv4`.

use aws_sigv4::http_request::SignableBody;
use aws_smithy_runtime_api::http::Headers;
use http::StatusCode;
use http_body_util::Full;

use super::support::*;

/// The trailer every trailing test body carries: the CRC32 of [`PAYLOAD`].
const TRAILER: (&str, &str) = ("x-amz-checksum-crc32", "B1kk+w==");

/// A signed `aws-chunked` PUT of `chunks`: the request (with an empty body) and the body.
fn chunked_put(
    chunks: &[&[u8]],
    trailer: bool,
    declared: Option<usize>,
) -> (Request<Full<Bytes>>, Vec<u8>) {
    let decoded = declared.unwrap_or_else(|| chunks.iter().map(|c| c.len()).sum());
    let mut r = request("PUT", "/bucket/key.bin", b"");
    let headers = r.headers_mut();
    headers.insert("content-encoding", "aws-chunked".parse().expect("value"));
    headers.insert(
        "x-amz-decoded-content-length",
        decoded.to_string().parse().expect("value"),
    );
    let mode = if trailer {
        headers.insert("x-amz-trailer", TRAILER.0.parse().expect("value"));
        SignableBody::StreamingSignedPayloadTrailer
    } else {
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into())
    };
    // The seed: the request's own signature.
    let mut previous = sign(&mut r, mode, s3_settings(), t0(), SECRET);

    let identity = identity(SECRET);
    let params = params(&identity, t0(), s3_settings());
    let mut body = Vec::new();
    for chunk in chunks.iter().copied().chain([&b""[..]]) {
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
    if trailer {
        let mut trailers = Headers::new();
        trailers.insert(TRAILER.0, TRAILER.1);
        let signature = v4::sign_trailer(&trailers, &previous, &params)
            .expect("trailer signature")
            .signature()
            .to_owned();
        body.extend_from_slice(format!("{}:{}\r\n", TRAILER.0, TRAILER.1).as_bytes());
        body.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    (r, body)
}

fn with_body(request: &Request<Full<Bytes>>, body: &[u8]) -> Request<Full<Bytes>> {
    let mut r = request.clone();
    *r.body_mut() = Full::new(Bytes::copy_from_slice(body));
    r
}

const CHUNKS: &[&[u8]] = &[b"hello ", b"chunked ", b"world"];

const PAYLOAD: &[u8] = b"hello chunked world";

#[tokio::test]
async fn signed_chunks_pass_decoded() {
    for trailer in [false, true] {
        let (r, body) = chunked_put(CHUNKS, trailer, None);
        let outcome = send(config_at(t0()), with_body(&r, &body)).await;
        let seen = outcome.assert_passed(PAYLOAD);
        assert_eq!(seen.headers["content-length"], "19");
        assert!(!seen.headers.contains_key("x-amz-decoded-content-length"));
        assert_eq!(seen.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        // The verified trailer checksum is an ordinary header now.
        assert_eq!(
            seen.headers.get(TRAILER.0).is_some(),
            trailer,
            "{:?}",
            seen.headers
        );
    }
}

#[tokio::test]
async fn chunks_fed_one_byte_at_a_time_pass() {
    let (r, body) = chunked_put(CHUNKS, true, None);
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    let (parts, _) = r.into_parts();
    let r = Request::from_parts(parts, frames(&bytes));
    send(config_at(t0()), r).await.assert_passed(PAYLOAD);
}

/// `body` with the first occurrence of `from` replaced by `to`.
fn replaced(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = body
        .windows(from.len())
        .position(|w| w == from)
        .expect("found");
    [&body[..at], to, &body[at + from.len()..]].concat()
}

#[tokio::test]
async fn a_tampered_chunk_does_not_match() {
    let (r, body) = chunked_put(CHUNKS, false, None);
    let tampered = replaced(&body, b"chunked ", b"chunkeD ");
    send(config_at(t0()), with_body(&r, &tampered))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
}

#[tokio::test]
async fn reordered_or_dropped_chunks_do_not_match() {
    let (r, body) = chunked_put(CHUNKS, false, None);
    let text = String::from_utf8(body).expect("text");
    let pieces: Vec<&str> = text.split_inclusive("\r\n").collect();
    // [hdr1, data1, hdr2, data2, hdr3, data3, final, end]
    let swapped = [
        pieces[2], pieces[3], pieces[0], pieces[1], pieces[4], pieces[5], pieces[6], pieces[7],
    ]
    .concat();
    send(config_at(t0()), with_body(&r, swapped.as_bytes()))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
    let dropped = [
        pieces[0], pieces[1], pieces[4], pieces[5], pieces[6], pieces[7],
    ]
    .concat();
    send(config_at(t0()), with_body(&r, dropped.as_bytes()))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
}

#[tokio::test]
async fn a_tampered_trailer_does_not_match() {
    let (r, body) = chunked_put(CHUNKS, true, None);
    let tampered = replaced(&body, TRAILER.1.as_bytes(), b"AAAAAA==");
    send(config_at(t0()), with_body(&r, &tampered))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
}

#[tokio::test]
async fn truncated_or_mislabelled_bodies_are_incomplete() {
    let (r, body) = chunked_put(CHUNKS, false, None);
    send(config_at(t0()), with_body(&r, &body[..body.len() / 2]))
        .await
        .assert_refused("IncompleteBody", 400);
    let (r, body) = chunked_put(CHUNKS, false, Some(5));
    send(config_at(t0()), with_body(&r, &body))
        .await
        .assert_refused("IncompleteBody", 400);
    let (r, body) = chunked_put(CHUNKS, false, None);
    let endless_header = vec![b'1'; 5000];
    send(config_at(t0()), with_body(&r, &endless_header))
        .await
        .assert_refused("IncompleteBody", 400);
    let mut body = body;
    body.extend_from_slice(b"extra");
    send(config_at(t0()), with_body(&r, &body))
        .await
        .assert_refused("IncompleteBody", 400);
}

#[tokio::test]
async fn streaming_past_the_buffer_limit_fails_the_body() {
    let streaming = || IngestLayer::new().buffer_limit(0);
    let (r, body) = chunked_put(CHUNKS, false, None);
    send_buffering(config_at(t0()), streaming(), with_body(&r, &body))
        .await
        .assert_passed(PAYLOAD);
    // The tampered chunk arrives after the limit: the inner service is already reading.
    // It reads an error, never the end; the client gets the real error, not the inner's.
    let tampered = replaced(&body, b"world", b"World");
    let at = body.len() / 2;
    let (parts, _) = r.into_parts();
    let r = Request::from_parts(parts, frames(&[&tampered[..at], &tampered[at..]]));
    let outcome = send_buffering(config_at(t0()), streaming(), r).await;
    assert_eq!(outcome.status, StatusCode::FORBIDDEN);
    assert_eq!(outcome.code.as_deref(), Some("SignatureDoesNotMatch"));
    let error = outcome.seen.expect("called").body.expect_err("must fail");
    assert!(error.starts_with("SignatureDoesNotMatch"), "{error}");
}

#[tokio::test]
async fn the_aws_documentation_example_passes() {
    // "Example: PUT Object" from the S3 documentation on SigV4 streaming uploads: 64 KiB
    // then 1 KiB of 'a', signed independently of aws-sigv4.
    let signatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];
    let mut body = Vec::new();
    for (size, signature) in [65_536usize, 1024, 0].into_iter().zip(signatures) {
        body.extend_from_slice(format!("{size:x};chunk-signature={signature}\r\n").as_bytes());
        if size > 0 {
            body.extend(std::iter::repeat_n(b'a', size));
            body.extend_from_slice(b"\r\n");
        }
    }
    body.extend_from_slice(b"\r\n");
    let r = Request::builder()
        .method("PUT")
        .uri("/examplebucket/chunkObject.txt")
        .header("host", "s3.amazonaws.com")
        .header("content-encoding", "aws-chunked")
        .header("content-length", "66824")
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .header("x-amz-date", "20130524T000000Z")
        .header("x-amz-decoded-content-length", "66560")
        .header("x-amz-storage-class", "REDUCED_REDUNDANCY")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class,\
             Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        )
        .body(Full::new(Bytes::from(body.clone())))
        .expect("request");
    assert_eq!(body.len(), 66_824);
    let now = crate::sigv4::canonical::parse_amz_date("20130524T000000Z").expect("date");
    let config = SigV4Config::new(StaticCredentials::new().with(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ))
    .clock(move || now);
    send(config, r).await.assert_passed(&[b'a'; 66_560]);
}
