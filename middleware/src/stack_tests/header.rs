//! `Authorization` header authentication.

use std::time::Duration;

use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody};
use http::StatusCode;
use http_body_util::Full;

use super::support::*;
use crate::sigv4::canonical::sha256_hex;

/// A PUT signed with the SHA-256 of its body.
fn signed_put(body: &[u8]) -> Request<Full<Bytes>> {
    let mut r = request("PUT", "/bucket/dir/key.bin", body);
    r.headers_mut().insert(
        "x-amz-meta-note",
        "  two   spaces  ".parse().expect("value"),
    );
    sign(
        &mut r,
        SignableBody::Bytes(body),
        s3_settings(),
        t0(),
        SECRET,
    );
    r
}

#[tokio::test]
async fn hex_payload_hash_passes_and_strips_the_signature() {
    let mut r = signed_put(b"hello world");
    r.headers_mut()
        .insert("x-amz-security-token", "token".parse().expect("value"));
    let outcome = send(config_at(t0() + Duration::from_secs(60)), r).await;
    let seen = outcome.assert_passed(b"hello world");
    assert!(!seen.headers.contains_key("authorization"));
    assert!(!seen.headers.contains_key("x-amz-security-token"));
    assert_eq!(seen.headers["x-amz-meta-note"], "  two   spaces  ");
    assert_eq!(seen.uri, "/bucket/dir/key.bin");
    let principal = seen.principal.as_ref().expect("principal");
    assert_eq!(principal.access_key_id(), ACCESS_KEY);
    assert_eq!(principal.region(), REGION);
    assert!(!principal.is_presigned());
}

#[tokio::test]
async fn unsigned_payload_passes_any_body() {
    let mut r = request("PUT", "/bucket/key", b"anything");
    sign(
        &mut r,
        SignableBody::UnsignedPayload,
        s3_settings(),
        t0(),
        SECRET,
    );
    *r.body_mut() = Full::new(Bytes::from_static(b"something else"));
    send(config_at(t0()), r)
        .await
        .assert_passed(b"something else");
}

#[tokio::test]
async fn special_characters_in_path_and_query_pass() {
    let path_and_query = "/bucket/dir/a%20b%2Bc%21%28%29%2A%27~%C3%A9.txt\
        ?list-type=2&prefix=a%20b%2Fc&delimiter=%2F&start-after=%C3%A9t%C3%A9\
        &my%20key=x%2By&%C3%BCn%C3%AF=%E2%9C%93&empty=&flag&a=2&a=1";
    let mut r = request("GET", path_and_query, b"");
    r.headers_mut()
        .append("x-amz-meta-multi", "one".parse().expect("value"));
    r.headers_mut()
        .append("x-amz-meta-multi", "two".parse().expect("value"));
    sign(
        &mut r,
        SignableBody::Bytes(b""),
        s3_settings(),
        t0(),
        SECRET,
    );
    let outcome = send(config_at(t0()), r).await;
    assert_eq!(outcome.assert_passed(b"").uri, path_and_query);
}

#[tokio::test]
async fn the_aws_documentation_example_passes() {
    // "GET Object" from the S3 SigV4 documentation: signed independently of aws-sigv4.
    let r = Request::builder()
        .uri("/test.txt")
        .header("host", "examplebucket.s3.amazonaws.com")
        .header("range", "bytes=0-9")
        .header("x-amz-content-sha256", sha256_hex(b""))
        .header("x-amz-date", "20130524T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        )
        .body(Full::new(Bytes::new()))
        .expect("request");
    let now = crate::sigv4::canonical::parse_amz_date("20130524T000500Z").expect("date");
    let config = SigV4Config::new(StaticCredentials::new().with(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ))
    .clock(move || now)
    .region("us-east-1");
    send(config, r).await.assert_passed(b"");
}

#[tokio::test]
async fn wrong_secret_does_not_match() {
    let mut r = request("GET", "/bucket/key", b"");
    sign(
        &mut r,
        SignableBody::Bytes(b""),
        s3_settings(),
        t0(),
        "not the secret",
    );
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
}

#[tokio::test]
async fn changed_header_query_or_method_does_not_match() {
    let mut r = signed_put(b"data");
    r.headers_mut()
        .insert("x-amz-meta-note", "changed".parse().expect("value"));
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);

    let mut r = signed_put(b"data");
    *r.uri_mut() = "/bucket/dir/key.bin?acl".parse().expect("uri");
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);

    let mut r = signed_put(b"data");
    *r.method_mut() = http::Method::POST;
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
}

#[tokio::test]
async fn added_unsigned_amz_header_is_denied() {
    let mut r = signed_put(b"data");
    r.headers_mut().insert(
        "x-amz-copy-source",
        "other/secret.bin".parse().expect("value"),
    );
    send(config_at(t0()), r)
        .await
        .assert_refused("AccessDenied", 403);
}

#[tokio::test]
async fn changed_body_is_a_hash_mismatch() {
    let mut r = signed_put(b"hello world");
    *r.body_mut() = Full::new(Bytes::from_static(b"hello WORLD"));
    send(config_at(t0()), r)
        .await
        .assert_refused("XAmzContentSHA256Mismatch", 400);
}

#[tokio::test]
async fn bodies_over_the_buffer_limit_are_checked_while_streaming() {
    let body = b"0123456789abcdef";
    let mut signed = request("PUT", "/bucket/key", body);
    sign(
        &mut signed,
        SignableBody::Bytes(body),
        s3_settings(),
        t0(),
        SECRET,
    );
    let (mut parts, _) = signed.into_parts();
    parts
        .headers
        .insert("content-length", http::HeaderValue::from(body.len()));
    let ingest = || IngestLayer::new().buffer_limit(5);

    let r = Request::from_parts(parts.clone(), frames(&[b"0123", b"4567", b"89abcdef"]));
    send_buffering(config_at(t0()), ingest(), r)
        .await
        .assert_passed(body);

    // The mismatch shows only at the end: the inner service reads an error, not an end,
    // and the client gets the mismatch whatever the inner service answered.
    let r = Request::from_parts(parts, frames(&[b"0123", b"4567", b"89abcdeF"]));
    let outcome = send_buffering(config_at(t0()), ingest(), r).await;
    assert_eq!(outcome.status, StatusCode::BAD_REQUEST);
    assert_eq!(outcome.code.as_deref(), Some("XAmzContentSHA256Mismatch"));
    let seen = outcome.seen.expect("inner service called");
    let error = seen.body.expect_err("the body must fail");
    assert!(error.starts_with("XAmzContentSHA256Mismatch"), "{error}");
}

#[tokio::test]
async fn clock_skew_beyond_15_minutes_is_refused() {
    let r = signed_put(b"x");
    send(config_at(t0() + Duration::from_secs(14 * 60)), r)
        .await
        .assert_passed(b"x");
    for now in [
        t0() + Duration::from_secs(16 * 60),
        t0() - Duration::from_secs(16 * 60),
    ] {
        send(config_at(now), signed_put(b"x"))
            .await
            .assert_refused("RequestTimeTooSkewed", 403);
    }
}

#[tokio::test]
async fn unknown_access_key_is_refused() {
    let config = SigV4Config::new(StaticCredentials::new().with("OTHER", SECRET)).clock(t0);
    send(config, signed_put(b"x"))
        .await
        .assert_refused("InvalidAccessKeyId", 403);
}

#[tokio::test]
async fn malformed_authorization_headers_are_refused() {
    let signed = signed_put(b"x");
    let authorization = signed.headers()["authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let without_signed_headers = authorization
        .split(", ")
        .filter(|c| !c.starts_with("SignedHeaders="))
        .collect::<Vec<_>>()
        .join(", ");
    let cases = [
        (without_signed_headers, "AuthorizationHeaderMalformed", 400),
        (
            authorization.replace("/aws4_request", "/aws5_request"),
            "AuthorizationHeaderMalformed",
            400,
        ),
        (
            authorization.replace("/s3/", "/ec2/"),
            "AuthorizationHeaderMalformed",
            400,
        ),
        (
            authorization.replace("Credential=", "Credential=A/"),
            "AuthorizationHeaderMalformed",
            400,
        ),
        (
            authorization.replace("Signature=", "Foo=bar, Signature="),
            "AuthorizationHeaderMalformed",
            400,
        ),
        // SigV2, verified as such (tests/v2.rs): this signature is wrong.
        (
            "AWS AKIDEXAMPLE:c2lnbmF0dXJl".to_owned(),
            "SignatureDoesNotMatch",
            403,
        ),
        ("Bearer token".to_owned(), "InvalidRequest", 400),
    ];
    for (value, code, status) in cases {
        let mut r = signed_put(b"x");
        r.headers_mut()
            .insert("authorization", value.parse().expect("value"));
        send(config_at(t0()), r).await.assert_refused(code, status);
    }
}

#[tokio::test]
async fn scope_and_required_headers_are_checked() {
    // Another region than the configured one.
    send(config_at(t0()).region("eu-west-1"), signed_put(b"x"))
        .await
        .assert_refused("AuthorizationHeaderMalformed", 400);
    // Signed without x-amz-content-sha256.
    let mut settings = s3_settings();
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    let mut r = request("GET", "/bucket/key", b"");
    sign(&mut r, SignableBody::Bytes(b""), settings, t0(), SECRET);
    send(config_at(t0()), r)
        .await
        .assert_refused("MissingSecurityHeader", 400);
    // An x-amz-content-sha256 that is neither a hash nor a known mode.
    let mut r = request("GET", "/bucket/key", b"");
    sign(
        &mut r,
        SignableBody::Precomputed("not-a-hash".into()),
        s3_settings(),
        t0(),
        SECRET,
    );
    send(config_at(t0()), r)
        .await
        .assert_refused("InvalidArgument", 400);
    // No date.
    let mut r = signed_put(b"x");
    r.headers_mut().remove("x-amz-date");
    send(config_at(t0()), r)
        .await
        .assert_refused("AccessDenied", 403);
}

#[tokio::test]
async fn anonymous_requests_are_refused_unless_allowed() {
    let r = || request("GET", "/bucket/key", b"");
    send(config_at(t0()), r())
        .await
        .assert_refused("AccessDenied", 403);
    let outcome = send(config_at(t0()).allow_anonymous(true), r()).await;
    assert!(outcome.assert_passed(b"").principal.is_none());
    // Allowing anonymous requests does not let a bad signature through.
    let mut bad = signed_put(b"x");
    *bad.body_mut() = Full::new(Bytes::from_static(b"y"));
    send(config_at(t0()).allow_anonymous(true), bad)
        .await
        .assert_refused("XAmzContentSHA256Mismatch", 400);
}

#[tokio::test]
async fn header_and_query_authentication_together_are_refused() {
    let mut r = signed_put(b"x");
    *r.uri_mut() = "/bucket/dir/key.bin?X-Amz-Signature=abc"
        .parse()
        .expect("uri");
    send(config_at(t0()), r)
        .await
        .assert_refused("InvalidArgument", 400);
}

#[tokio::test]
async fn without_a_clock_signed_requests_fail_closed() {
    let mut config = config_at(t0());
    config.clock = None;
    send(config, signed_put(b"x"))
        .await
        .assert_refused("InternalError", 500);
}
