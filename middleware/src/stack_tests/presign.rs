//! Presigned URLs.

use std::time::Duration;

use aws_sigv4::http_request::{SignableBody, SignatureLocation};
use http_body_util::Full;

use super::support::*;

/// A GET presigned for `expires`.
fn presigned(path_and_query: &str, expires: Duration) -> Request<Full<Bytes>> {
    let mut settings = s3_settings();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    let mut r = request("GET", path_and_query, b"");
    sign(
        &mut r,
        SignableBody::UnsignedPayload,
        settings,
        t0(),
        SECRET,
    );
    r
}

fn hour() -> Duration {
    Duration::from_secs(3600)
}

#[tokio::test]
async fn presigned_get_passes_without_its_signature_parameters() {
    let r = presigned(
        "/bucket/dir/r%C3%A9sum%C3%A9%20v2.pdf?versionId=a%2Bb",
        hour(),
    );
    assert!(
        r.uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="))
    );
    let outcome = send(config_at(t0() + Duration::from_secs(3000)), r).await;
    let seen = outcome.assert_passed(b"");
    // The inner service (and a backend that checks signatures) sees the plain request.
    assert_eq!(
        seen.uri.to_string(),
        "/bucket/dir/r%C3%A9sum%C3%A9%20v2.pdf?versionId=a%2Bb"
    );
    assert!(seen.principal.as_ref().is_some_and(Principal::is_presigned));
}

#[tokio::test]
async fn presigned_put_passes_its_hoisted_headers_as_headers() {
    let mut settings = s3_settings();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(hour());
    let mut r = request(
        "PUT",
        "/bucket/key?x-amz-acl=private&X-Amz-Meta-Note=a%20b",
        b"hello",
    );
    sign(
        &mut r,
        SignableBody::UnsignedPayload,
        settings,
        t0(),
        SECRET,
    );
    let outcome = send(config_at(t0()), r).await;
    let seen = outcome.assert_passed(b"hello");
    assert_eq!(seen.uri.to_string(), "/bucket/key");
    assert_eq!(seen.headers["x-amz-acl"], "private");
    assert_eq!(seen.headers["x-amz-meta-note"], "a b");
}

#[tokio::test]
async fn presigned_with_a_tricky_query_passes() {
    let r = presigned(
        "/bucket/key?response-content-disposition=attachment%3B%20filename%3D%22%C3%BC%20x.txt%22\
         &my%20key=%E2%9C%93&flag",
        hour(),
    );
    send(config_at(t0()), r).await.assert_passed(b"");
}

#[tokio::test]
async fn expired_presigned_url_is_denied() {
    let r = presigned("/bucket/key", hour());
    send(config_at(t0() + hour() + Duration::from_secs(1)), r)
        .await
        .assert_refused("AccessDenied", 403);
    // Dated well in the future.
    let r = presigned("/bucket/key", hour());
    send(config_at(t0() - Duration::from_secs(20 * 60)), r)
        .await
        .assert_refused("AccessDenied", 403);
}

#[tokio::test]
async fn tampered_presigned_url_does_not_match() {
    let r = presigned("/bucket/key", hour());
    let uri = r.uri().to_string().replace("/bucket/key", "/bucket/other");
    send(config_at(t0()), request("GET", &uri, b""))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);

    let r = presigned("/bucket/key?versionId=1", hour());
    let uri = r.uri().to_string().replace("versionId=1", "versionId=2");
    send(config_at(t0()), request("GET", &uri, b""))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);

    // Lengthening the validity breaks the signature too.
    let r = presigned("/bucket/key", hour());
    let uri = r
        .uri()
        .to_string()
        .replace("X-Amz-Expires=3600", "X-Amz-Expires=7200");
    send(config_at(t0()), request("GET", &uri, b""))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);

    // So does an unsigned x-amz-* header added to the request.
    let mut r = presigned("/bucket/key", hour());
    r.headers_mut()
        .insert("x-amz-acl", "public-read".parse().expect("value"));
    send(config_at(t0()), r)
        .await
        .assert_refused("AccessDenied", 403);
}

#[tokio::test]
async fn bad_presigning_parameters_are_refused() {
    let r = presigned("/bucket/key", Duration::from_secs(604_801));
    send(config_at(t0()), r)
        .await
        .assert_refused("AuthorizationQueryParametersError", 400);

    let r = presigned("/bucket/key", hour());
    let without_signature: Vec<&str> = r
        .uri()
        .query()
        .expect("query")
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Signature="))
        .collect();
    let uri = format!("/bucket/key?{}", without_signature.join("&"));
    send(config_at(t0()), request("GET", &uri, b""))
        .await
        .assert_refused("AuthorizationQueryParametersError", 400);

    let r = presigned("/bucket/key", hour());
    let uri = r.uri().to_string().replace(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Algorithm=AWS4-HMAC-SHA1",
    );
    send(config_at(t0()), request("GET", &uri, b""))
        .await
        .assert_refused("AuthorizationQueryParametersError", 400);

    let r = presigned("/bucket/key", hour());
    let uri = format!("{}&X-Amz-Signature=00", r.uri());
    send(config_at(t0()), request("GET", &uri, b""))
        .await
        .assert_refused("AuthorizationQueryParametersError", 400);
}
