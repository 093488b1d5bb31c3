//! Tests: refused requests are counted under their reason, by the layer and every service
//! and clone it made, and their answers are marked.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::ServiceExt;
use tower_layer::Layer;

use super::SigV4Layer;
use crate::sigv4::refusal::REASONS;
use crate::sigv4::{Refusal, SigV4Config, StaticCredentials};

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// 2023-11-14T22:13:20Z.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn layer() -> SigV4Layer {
    let keys = StaticCredentials::new().with(ACCESS_KEY, SECRET);
    SigV4Layer::new(SigV4Config::new(keys).clock(t0))
}

/// A request to `uri` with these headers (`host` always).
fn request(uri: &str, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut builder = Request::get(uri).header("host", "s3.example.com");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(Bytes::new())).expect("request")
}

/// A SigV4 `Authorization` header by `key`, its signature made up.
fn authorization(key: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/20231114/us-east-1/s3/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={}",
        "0".repeat(64)
    )
}

/// The status of the answer to `request` and the reason it is marked with.
async fn refuse(layer: &SigV4Layer, request: Request<Full<Bytes>>) -> (StatusCode, &'static str) {
    let inner = tower::service_fn(|_: Request<crate::RequestBody<Full<Bytes>>>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let service = layer.clone().layer(inner);
    let response = service.clone().oneshot(request).await.expect("infallible");
    let refusal = response.extensions().get::<Refusal>().expect("marked");
    (response.status(), refusal.reason())
}

fn count(layer: &SigV4Layer, reason: &str) -> u64 {
    let counts = layer.refusals();
    assert_eq!(counts.len(), REASONS.len());
    counts
        .into_iter()
        .find(|(r, _)| *r == reason)
        .map_or(0, |(_, n)| n)
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    let layer = layer();
    assert!(layer.refusals().iter().all(|(_, n)| *n == 0));
    let header = |key: &str, date: &'static str| {
        let auth = authorization(key);
        request(
            "http://s3.example.com/bucket/key",
            &[
                ("authorization", auth.as_str()),
                ("x-amz-date", date),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ],
        )
    };
    let presigned = "http://s3.example.com/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIDEXAMPLE%2F20231114%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20231114T201320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
        &X-Amz-Signature=00";
    let cases = [
        (
            header(ACCESS_KEY, "20231114T221320Z"),
            "signature_mismatch",
            403,
        ),
        (
            header("NOSUCHKEY", "20231114T221320Z"),
            "unknown_access_key",
            403,
        ),
        (header(ACCESS_KEY, "20231114T232000Z"), "clock_skew", 403),
        (request(presigned, &[]), "request_expired", 403),
        (
            request("http://s3.example.com/bucket", &[]),
            "unsigned",
            403,
        ),
        (
            request(
                "http://s3.example.com/bucket",
                &[("authorization", "AWS4-HMAC-SHA256 nonsense")],
            ),
            "malformed",
            400,
        ),
    ];
    for (request, expected, status) in cases {
        let before = count(&layer, expected);
        let (answered, reason) = refuse(&layer, request).await;
        assert_eq!((answered.as_u16(), reason), (status, expected));
        assert_eq!(count(&layer, expected), before + 1, "{expected}");
    }
    // Counted once each, and shared with the clones the services were made from.
    assert_eq!(
        layer.clone().refusals().iter().map(|(_, n)| n).sum::<u64>(),
        6
    );
    assert_eq!(count(&layer, "signature_mismatch"), 1);
}
