//! Tests: requests signed by the layer verify with the crate's own `SigV4Layer`, and carry
//! the very signature the real `aws-sigv4` crate (the AWS SDK's signer) computes.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use tower::ServiceExt;
use tower_layer::Layer;

use super::{SignConfig, SignLayer};
use crate::sigv4::Principal;
use crate::sigv4::SigV4Config;
use crate::sigv4::SigV4Layer;
use crate::sigv4::StaticCredentials;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION: &str = "eu-west-1";

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn config() -> SignConfig {
    SignConfig::new(ACCESS_KEY, SECRET, REGION).clock(t0)
}

/// A verified client's request, as the DeltaLayer forwards it: re-addressed, body given.
fn request(method: &str, uri: &str, body: &'static [u8]) -> Request<Full<Bytes>> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(Bytes::from_static(body)))
        .expect("request");
    request
        .extensions_mut()
        .insert(Principal::new("client", REGION, false));
    request
}

/// Signs `request` with `config`: the request as the inner service got it, or the answer
/// given in its place.
async fn sign<B>(config: SignConfig, request: Request<B>) -> Result<Request<B>, Response<String>>
where
    B: http_body::Body + Send + 'static,
{
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(move |request: Request<B>| {
        *record.lock().expect("lock") = Some(request);
        async { Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new())) }
    });
    let response = SignLayer::new(config)
        .layer(inner)
        .oneshot(request)
        .await
        .expect("infallible");
    if let Some(request) = seen.lock().expect("lock").take() {
        return Ok(request);
    }
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Err(Response::from_parts(
        parts,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// What the `SigV4Layer` at time `now` makes of `request`: the status, and the principal
/// the inner service saw.
async fn verify<B>(request: Request<B>, secret: &str) -> (StatusCode, Option<Principal>)
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<crate::BoxError>,
{
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(move |request: Request<crate::RequestBody<B>>| {
        *record.lock().expect("lock") = request.extensions().get::<Principal>().cloned();
        async { Ok::<_, Infallible>(Response::new(String::new())) }
    });
    let config = SigV4Config::new(StaticCredentials::new().with(ACCESS_KEY, secret))
        .region(REGION)
        .clock(t0);
    let response = SigV4Layer::new(config)
        .layer(inner)
        .oneshot(request)
        .await
        .expect("infallible");
    let principal = seen.lock().expect("lock").take();
    (response.status(), principal)
}

#[tokio::test]
async fn signed_requests_verify() {
    let cases: [(&str, &str, &'static [u8]); 5] = [
        (
            "GET",
            "http://127.0.0.1:9000/b?list-type=2&prefix=a%20b&delimiter=%2F",
            b"",
        ),
        (
            "PUT",
            "http://127.0.0.1:9000/b/dir/k%20x!(1)~%C3%A9",
            b"object bytes",
        ),
        ("HEAD", "https://s3.example.com/b/k", b""),
        ("DELETE", "http://127.0.0.1:9000/b/k?versionId=3", b""),
        ("POST", "http://127.0.0.1:9000/b/k?uploads", b""),
    ];
    for (method, uri, body) in cases {
        let mut request = request(method, uri, body);
        request.headers_mut().insert(
            "x-amz-meta-note",
            HeaderValue::from_static("  two   spaces "),
        );
        request
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("text/plain"));
        let signed = sign(config(), request).await.expect("signed");
        let (status, principal) = verify(signed, SECRET).await;
        assert_eq!(status, StatusCode::OK, "{method} {uri}");
        let principal = principal.expect("verified");
        assert_eq!(principal.access_key_id(), ACCESS_KEY);
    }
}

#[tokio::test]
async fn another_secret_does_not_verify() {
    let signed = sign(config(), request("GET", "http://127.0.0.1:9000/b/k", b""))
        .await
        .expect("signed");
    let (status, principal) = verify(signed, "another secret").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(principal.is_none());
}

/// The payload: the empty body's hash, or `UNSIGNED-PAYLOAD` for anything with a body.
#[tokio::test]
async fn payload_hash_follows_the_body() {
    let empty = sign(config(), request("GET", "http://h/b/k", b""))
        .await
        .expect("signed");
    assert_eq!(
        empty.headers()["x-amz-content-sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let full = sign(config(), request("PUT", "http://h/b/k", b"x"))
        .await
        .expect("signed");
    assert_eq!(full.headers()["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
}

/// The very `Authorization` the AWS SDK's signer writes, with S3's settings. (Paths as the
/// SDKs send them, every reserved character encoded: given a raw `!`, `aws-sigv4` signs it
/// as sent, where S3 and the `SigV4Layer` encode it, `%21`, and so does this layer.)
#[tokio::test]
async fn the_signature_is_the_aws_sdks() {
    for (method, uri, body) in [
        (
            "GET",
            "http://127.0.0.1:9000/b?list-type=2&prefix=a%20b",
            &b""[..],
        ),
        (
            "PUT",
            "http://127.0.0.1:9000/b/k%20x%21%281%29%2Fy~",
            &b"payload"[..],
        ),
    ] {
        let mut ours = request(method, uri, body);
        ours.headers_mut()
            .insert("host", HeaderValue::from_static("127.0.0.1:9000"));
        ours.headers_mut()
            .insert("x-amz-meta-a", HeaderValue::from_static("1"));
        ours.headers_mut()
            .insert("content-length", HeaderValue::from(body.len()));
        let original: Vec<(String, String)> = ours
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ascii").to_owned()))
            .collect();
        let ours = sign(config(), ours).await.expect("signed");

        let identity: Identity = Credentials::new(ACCESS_KEY, SECRET, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("s3")
            .time(t0())
            .settings(settings)
            .build()
            .expect("params")
            .into();
        let payload = if body.is_empty() {
            SignableBody::Bytes(&[])
        } else {
            SignableBody::UnsignedPayload
        };
        let signable = SignableRequest::new(
            method,
            uri,
            original.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            payload,
        )
        .expect("signable");
        let (instructions, _) = http_request::sign(signable, &params)
            .expect("sign")
            .into_parts();
        let mut theirs = Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .expect("request");
        instructions.apply_to_request_http1x(&mut theirs);
        assert_eq!(
            ours.headers()["authorization"],
            theirs.headers()["authorization"],
            "{method} {uri}"
        );
    }
}

/// Only verified clients act with the backend's credentials, unless told otherwise.
#[tokio::test]
async fn anonymous_requests_stay_anonymous() {
    let mut anonymous = request("GET", "http://h/b/k", b"");
    anonymous.extensions_mut().clear();
    let passed = sign(config(), anonymous).await.expect("passed");
    assert!(passed.headers().get("authorization").is_none());
    assert!(passed.headers().get("x-amz-date").is_none());

    let mut anonymous = request("GET", "http://h/b/k", b"");
    anonymous.extensions_mut().clear();
    let signed = sign(config().sign_anonymous(true), anonymous)
        .await
        .expect("signed");
    assert_eq!(verify(signed, SECRET).await.0, StatusCode::OK);
}

/// A client's signature and token are replaced; a session token is sent and signed.
#[tokio::test]
async fn earlier_signatures_are_replaced() {
    let mut request = request("GET", "http://h/b/k", b"");
    for (name, value) in [
        ("authorization", "AWS4-HMAC-SHA256 Credential=client/..."),
        ("x-amz-date", "20000101T000000Z"),
        ("x-amz-security-token", "client-token"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
    ] {
        request
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    let signed = sign(config().session_token("backend-token"), request)
        .await
        .expect("signed");
    let headers = signed.headers();
    assert_eq!(headers["x-amz-date"], "20231114T221320Z");
    assert_eq!(headers["x-amz-security-token"], "backend-token");
    assert_eq!(headers.get_all("authorization").iter().count(), 1);
    let authorization = headers["authorization"].to_str().expect("ascii");
    assert!(
        authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
        ),
        "{authorization}"
    );
    assert_eq!(headers["host"], "h");
    assert_eq!(verify(signed, SECRET).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unsignable_requests_are_answered() {
    let mut opaque = request("PUT", "http://h/b/k", b"x");
    opaque.headers_mut().insert(
        "x-amz-meta-name",
        HeaderValue::from_bytes(b"caf\xc3\xa9").expect("opaque value"),
    );
    let answer = sign(config(), opaque).await.expect_err("refused");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(
        answer.body().contains("<Code>InvalidArgument</Code>"),
        "{answer:?}"
    );

    let mut clockless = config();
    clockless.clock = None;
    let answer = sign(clockless, request("GET", "http://h/b/k", b""))
        .await
        .expect_err("refused");
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
