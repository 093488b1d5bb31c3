//! SigV2: header and query-string authentication. The signature itself is checked against
//! AWS's documented examples in `v2.rs`; these tests cover what the layer does with it.

use std::time::Duration;

use http_body_util::Full;

use super::support::*;
use crate::sigv4::v2;

/// `request` signed with SigV2 in the `Authorization` header, dated `time` (`Date`).
fn signed_v2(
    method: &str,
    path_and_query: &str,
    body: &[u8],
    time: SystemTime,
) -> Request<Full<Bytes>> {
    let mut r = request(method, path_and_query, body);
    r.headers_mut().insert(
        "date",
        httpdate::fmt_http_date(time).parse().expect("value"),
    );
    authorize(&mut r, SECRET);
    r
}

/// Adds `Authorization: AWS` for the request as it is.
fn authorize(r: &mut Request<Full<Bytes>>, secret: &str) {
    let date = r
        .headers()
        .get("date")
        .filter(|_| !r.headers().contains_key("x-amz-date"))
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    let parts = r_parts(r);
    let signature = v2::sign(secret, v2::string_to_sign(&parts, &date).as_bytes()).expect("sign");
    r.headers_mut().insert(
        "authorization",
        format!("AWS {ACCESS_KEY}:{signature}")
            .parse()
            .expect("value"),
    );
}

fn r_parts(r: &Request<Full<Bytes>>) -> http::request::Parts {
    let mut builder = Request::builder().method(r.method()).uri(r.uri());
    for (name, value) in r.headers() {
        builder = builder.header(name, value);
    }
    builder.body(()).expect("request").into_parts().0
}

/// A SigV2 presigned URL for `path_and_query`, valid until `expires` (seconds since the
/// epoch), as `aws s3 presign` (aws-cli v1) makes them.
fn presigned_v2(method: &str, path_and_query: &str, expires: u64) -> String {
    let r = request(method, path_and_query, b"");
    let sts = v2::string_to_sign(&r_parts(&r), &expires.to_string());
    let signature = v2::sign(SECRET, sts.as_bytes()).expect("sign");
    let encoded: String =
        percent_encoding::utf8_percent_encode(&signature, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let separator = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    format!(
        "{path_and_query}{separator}AWSAccessKeyId={ACCESS_KEY}&Expires={expires}&Signature={encoded}"
    )
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs()
}

#[tokio::test]
async fn header_signed_request_passes_without_its_authorization() {
    let mut r = signed_v2("PUT", "/bucket/dir/a%20b.txt?acl", b"hi", t0());
    r.headers_mut().remove("authorization");
    r.headers_mut()
        .insert("x-amz-meta-note", "  two   words ".parse().expect("value"));
    r.headers_mut()
        .insert("content-type", "text/plain".parse().expect("value"));
    authorize(&mut r, SECRET);
    let outcome = send(config_at(t0() + Duration::from_secs(60)), r).await;
    let seen = outcome.assert_passed(b"hi");
    assert!(!seen.headers.contains_key("authorization"));
    assert_eq!(seen.uri.to_string(), "/bucket/dir/a%20b.txt?acl");
    let principal = seen.principal.as_ref().expect("principal");
    assert_eq!(principal.access_key_id(), ACCESS_KEY);
    assert!(!principal.is_presigned());
}

#[tokio::test]
async fn x_amz_date_takes_the_place_of_date() {
    let mut r = request("DELETE", "/bucket/key", b"");
    r.headers_mut().insert(
        "x-amz-date",
        httpdate::fmt_http_date(t0()).parse().expect("value"),
    );
    // A Date header the signature does not cover (it is signed through x-amz-date).
    r.headers_mut().insert(
        "date",
        "Thu, 01 Jan 2015 00:00:00 GMT".parse().expect("value"),
    );
    authorize(&mut r, SECRET);
    send(config_at(t0()), r).await.assert_passed(b"");
}

#[tokio::test]
async fn header_signature_failures() {
    // Wrong secret.
    let mut r = signed_v2("GET", "/bucket/key", b"", t0());
    authorize(&mut r, "other secret");
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
    // A sub-resource added after signing.
    let r = signed_v2("GET", "/bucket/key", b"", t0());
    let (mut parts, body) = r.into_parts();
    parts.uri = "/bucket/key?acl".parse().expect("uri");
    send(config_at(t0()), Request::from_parts(parts, body))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
    // An x-amz-* header added after signing.
    let mut r = signed_v2("PUT", "/bucket/key", b"x", t0());
    r.headers_mut()
        .insert("x-amz-acl", "public-read".parse().expect("value"));
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
    // Too old, or no date at all.
    let r = signed_v2("GET", "/bucket/key", b"", t0());
    send(config_at(t0() + Duration::from_secs(16 * 60)), r)
        .await
        .assert_refused("RequestTimeTooSkewed", 403);
    let mut r = signed_v2("GET", "/bucket/key", b"", t0());
    r.headers_mut().remove("date");
    send(config_at(t0()), r)
        .await
        .assert_refused("AccessDenied", 403);
    // Unknown key; malformed header.
    let mut r = signed_v2("GET", "/bucket/key", b"", t0());
    let value = r.headers()["authorization"]
        .to_str()
        .expect("ascii")
        .replace(ACCESS_KEY, "AKIDOTHER");
    r.headers_mut()
        .insert("authorization", value.parse().expect("value"));
    send(config_at(t0()), r)
        .await
        .assert_refused("InvalidAccessKeyId", 403);
    for value in ["AWS AKIDEXAMPLE", "AWS :sig", "AWS AKIDEXAMPLE:"] {
        let mut r = signed_v2("GET", "/bucket/key", b"", t0());
        r.headers_mut()
            .insert("authorization", value.parse().expect("value"));
        send(config_at(t0()), r)
            .await
            .assert_refused("InvalidArgument", 400);
    }
}

#[tokio::test]
async fn presigned_v2_passes_without_its_parameters() {
    let expires = epoch(t0()) + 3600;
    let uri = presigned_v2(
        "GET",
        "/bucket/a%2Bb.txt?versionId=v1&x-id=GetObject",
        expires,
    );
    let outcome = send(config_at(t0()), request("GET", &uri, b"")).await;
    let seen = outcome.assert_passed(b"");
    assert_eq!(
        seen.uri.to_string(),
        "/bucket/a%2Bb.txt?versionId=v1&x-id=GetObject"
    );
    assert!(seen.principal.as_ref().is_some_and(Principal::is_presigned));

    let uri = presigned_v2("DELETE", "/bucket/key", expires);
    let seen = send(config_at(t0()), request("DELETE", &uri, b"")).await;
    assert_eq!(seen.assert_passed(b"").uri.to_string(), "/bucket/key");
}

#[tokio::test]
async fn presigned_v2_failures() {
    let expires = epoch(t0()) + 3600;
    // Expired.
    let uri = presigned_v2("GET", "/bucket/key", expires);
    send(
        config_at(t0() + Duration::from_secs(3601)),
        request("GET", &uri, b""),
    )
    .await
    .assert_refused("AccessDenied", 403);
    // Another method, key, or a later expiry than signed.
    let uri = presigned_v2("GET", "/bucket/key", expires);
    send(config_at(t0()), request("DELETE", &uri, b""))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
    send(
        config_at(t0()),
        request("GET", &uri.replace("/key", "/other"), b""),
    )
    .await
    .assert_refused("SignatureDoesNotMatch", 403);
    let later = uri.replace(&expires.to_string(), &(expires + 1).to_string());
    send(config_at(t0()), request("GET", &later, b""))
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
    // A header parameter appended to the URL is not signed by SigV2: it must not become
    // a header.
    let uri = presigned_v2("PUT", "/bucket/key", expires);
    let outcome = send(
        config_at(t0()),
        request("PUT", &format!("{uri}&x-amz-acl=public-read"), b"x"),
    )
    .await;
    assert!(
        !outcome
            .assert_passed(b"x")
            .headers
            .contains_key("x-amz-acl")
    );
    // Parameters missing, repeated or unusable.
    for uri in [
        format!("/bucket/key?AWSAccessKeyId={ACCESS_KEY}&Signature=abc"),
        format!("/bucket/key?AWSAccessKeyId={ACCESS_KEY}&Expires=soon&Signature=abc"),
        format!("/bucket/key?Expires={expires}&Signature=abc"),
        format!(
            "{}&Signature=abc",
            presigned_v2("GET", "/bucket/key", expires)
        ),
    ] {
        send(config_at(t0()), request("GET", &uri, b""))
            .await
            .assert_refused("AccessDenied", 403);
    }
    // With an Authorization header as well.
    let mut r = request("GET", &presigned_v2("GET", "/bucket/key", expires), b"");
    r.headers_mut().insert(
        "authorization",
        "AWS AKIDEXAMPLE:abc".parse().expect("value"),
    );
    send(config_at(t0()), r)
        .await
        .assert_refused("InvalidArgument", 400);
}

#[tokio::test]
async fn a_bucket_request_is_signed_with_a_trailing_slash() {
    // botocore and s3cmd sign `PUT /bucket` (CreateBucket) with the resource `/bucket/`.
    let mut as_signed = signed_v2("PUT", "/bucket/", b"", t0());
    let authorization = as_signed
        .headers_mut()
        .remove("authorization")
        .expect("signed");
    let mut r = request("PUT", "/bucket", b"");
    r.headers_mut()
        .insert("date", as_signed.headers()["date"].clone());
    r.headers_mut()
        .insert("authorization", authorization.clone());
    send(config_at(t0()), r).await.assert_passed(b"");
    // Only for a bucket: a key is signed as sent.
    let mut as_signed = signed_v2("GET", "/bucket/key/", b"", t0());
    let authorization = as_signed
        .headers_mut()
        .remove("authorization")
        .expect("signed");
    let mut r = request("GET", "/bucket/key", b"");
    r.headers_mut()
        .insert("date", as_signed.headers()["date"].clone());
    r.headers_mut().insert("authorization", authorization);
    send(config_at(t0()), r)
        .await
        .assert_refused("SignatureDoesNotMatch", 403);
}
