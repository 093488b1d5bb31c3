//! Browser uploads (POST Object): forms signed as AWS documents them (the SigV4 signing key
//! from `aws-sigv4`), turned into the PutObject they stand for, or refused untouched.

use std::time::Duration;

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use hmac::{Hmac, Mac};
use http_body_util::Full;

use super::support::*;
use crate::s3::content_md5::base64_encode;

const BOUNDARY: &str = "----form7MA4YWxkTrZu0gW";

/// A policy expiring an hour after `t0()`, with these conditions (JSON), base64.
fn policy(conditions: &str) -> String {
    let json = format!(r#"{{"expiration": "2023-11-14T23:13:20Z", "conditions": [{conditions}]}}"#);
    base64_encode(json.as_bytes())
}

/// SigV4 form fields for `policy`, signed at `t0()` with `secret`.
fn v4_fields(policy: &str, secret: &str) -> Vec<(String, String)> {
    let key = generate_signing_key(secret, t0(), REGION, "s3");
    let signature = calculate_signature(key, policy.as_bytes());
    [
        ("policy", policy.to_owned()),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256".to_owned()),
        (
            "x-amz-credential",
            format!("{ACCESS_KEY}/20231114/{REGION}/s3/aws4_request"),
        ),
        ("x-amz-date", "20231114T221320Z".to_owned()),
        ("x-amz-signature", signature),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect()
}

/// SigV2 form fields for `policy`.
fn v2_fields(policy: &str) -> Vec<(String, String)> {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(policy.as_bytes());
    vec![
        ("AWSAccessKeyId".to_owned(), ACCESS_KEY.to_owned()),
        ("policy".to_owned(), policy.to_owned()),
        (
            "signature".to_owned(),
            base64_encode(&mac.finalize().into_bytes()),
        ),
    ]
}

/// `POST /bucket` with these fields, then the file.
fn post(fields: &[(String, String)], filename: &str, file: &[u8]) -> Request<Full<Bytes>> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri("/bucket")
        .header("host", HOST)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", body.len())
        .body(Full::new(Bytes::from(body)))
        .expect("request")
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

const CONDITIONS: &str = r#"{"bucket": "bucket"}, ["starts-with", "$key", "up/"],
    {"acl": "private"}, ["starts-with", "$Content-Type", "text/"],
    ["starts-with", "$x-amz-meta-note", ""], ["eq", "$success_action_status", "201"],
    ["content-length-range", 1, 100], {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
    ["starts-with", "$x-amz-credential", "AKIDEXAMPLE/"], ["eq", "$x-amz-date", "20231114T221320Z"]"#;

fn with_form(signature: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = fields(&[
        ("key", "up/${filename}"),
        ("acl", "private"),
        ("Content-Type", "text/plain"),
        ("x-amz-meta-note", "two words"),
        ("success_action_status", "201"),
    ]);
    all.extend(signature);
    all.extend(fields(extra));
    all
}

#[tokio::test]
async fn a_v4_form_becomes_a_put_object() {
    let form = with_form(v4_fields(&policy(CONDITIONS), SECRET), &[]);
    let outcome = send(config_at(t0()), post(&form, "a b.txt", b"file\r\ndata")).await;
    // The inner service answered 200: the client gets 201 and the PostResponse.
    assert_eq!(outcome.status, StatusCode::CREATED, "{outcome:?}");
    let seen = outcome.seen.as_ref().expect("inner service called");
    assert_eq!(seen.body.as_deref(), Ok(&b"file\r\ndata"[..]));
    assert_eq!(seen.uri.to_string(), "/bucket/up/a%20b.txt");
    assert_eq!(seen.headers["content-type"], "text/plain");
    assert_eq!(seen.headers["content-length"], "10");
    assert_eq!(seen.headers["x-amz-acl"], "private");
    assert_eq!(seen.headers["x-amz-meta-note"], "two words");
    assert_eq!(seen.headers["host"], HOST);
    assert!(!seen.headers.contains_key("success_action_status"));
    assert_eq!(
        seen.principal.as_ref().map(Principal::access_key_id),
        Some(ACCESS_KEY)
    );
}

#[tokio::test]
async fn a_v2_form_passes_and_answers_204() {
    let conditions = r#"{"bucket": "bucket"}, ["starts-with", "$key", ""]"#;
    let mut form = fields(&[("key", "k.bin")]);
    form.extend(v2_fields(&policy(conditions)));
    let outcome = send(config_at(t0()), post(&form, "x", b"\x00\xff")).await;
    assert_eq!(outcome.status, StatusCode::NO_CONTENT, "{outcome:?}");
    let seen = outcome.seen.as_ref().expect("inner service called");
    assert_eq!(seen.uri.to_string(), "/bucket/k.bin");
    assert_eq!(seen.body.as_deref(), Ok(&b"\x00\xff"[..]));
}

// Long: one table of refused forms, each case a few lines of data.
#[tokio::test]
async fn forms_that_fail_are_refused_untouched() {
    let good_policy = policy(CONDITIONS);
    /// The form, the file, the error code and status.
    type Case = (Vec<(String, String)>, &'static [u8], &'static str, u16);
    let cases: Vec<Case> = vec![
        // Signed with another secret.
        (
            with_form(v4_fields(&good_policy, "other"), &[]),
            b"x",
            "SignatureDoesNotMatch",
            403,
        ),
        // The policy changed after signing.
        (
            {
                let mut f = with_form(v4_fields(&good_policy, SECRET), &[]);
                let changed = policy(&CONDITIONS.replace("up/", ""));
                f.iter_mut().find(|(n, _)| n == "policy").expect("policy").1 = changed;
                f
            },
            b"x",
            "SignatureDoesNotMatch",
            403,
        ),
        // A field no condition names (the SigV4 fields must be named too).
        (
            with_form(
                v4_fields(
                    &policy(&CONDITIONS.replace(r#"{"x-amz-algorithm": "AWS4-HMAC-SHA256"},"#, "")),
                    SECRET,
                ),
                &[],
            ),
            b"x",
            "AccessDenied",
            403,
        ),
        (
            with_form(
                v4_fields(&good_policy, SECRET),
                &[("x-amz-meta-other", "1")],
            ),
            b"x",
            "AccessDenied",
            403,
        ),
        // A condition failed: the file is too large, too small.
        (
            with_form(v4_fields(&good_policy, SECRET), &[]),
            &[b'x'; 101],
            "EntityTooLarge",
            400,
        ),
        (
            with_form(v4_fields(&good_policy, SECRET), &[]),
            b"",
            "EntityTooSmall",
            400,
        ),
        // Not a policy.
        (
            with_form(v4_fields(&base64_encode(b"{}"), SECRET), &[]),
            b"x",
            "InvalidPolicyDocument",
            400,
        ),
        // No policy: anonymous, not allowed here.
        (fields(&[("key", "k")]), b"x", "AccessDenied", 403),
        // A signature without a policy.
        (
            fields(&[("key", "k"), ("signature", "abc")]),
            b"x",
            "InvalidArgument",
            400,
        ),
        // No key.
        (v2_fields(&good_policy), b"x", "InvalidArgument", 400),
    ];
    for (form, file, code, status) in cases {
        send(config_at(t0()), post(&form, "f.txt", file))
            .await
            .assert_refused(code, status);
    }
}

#[tokio::test]
async fn forms_expired_cut_short_or_too_large_are_refused() {
    // Expired: the same form an hour and a second later.
    let form = with_form(v4_fields(&policy(CONDITIONS), SECRET), &[]);
    send(
        config_at(t0() + Duration::from_secs(3601)),
        post(&form, "f.txt", b"x"),
    )
    .await
    .assert_refused("AccessDenied", 403);
    // Malformed: the body cut short.
    let r = post(&form, "f.txt", b"x");
    let (mut parts, body) = r.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let cut = bytes.slice(..bytes.len() - 20);
    parts.headers.insert("content-length", cut.len().into());
    send(config_at(t0()), Request::from_parts(parts, Full::new(cut)))
        .await
        .assert_refused("MalformedPOSTRequest", 400);
    // Larger than max_post_size.
    send(
        config_at(t0()).max_post_size(100),
        post(&form, "f.txt", b"x"),
    )
    .await
    .assert_refused("EntityTooLarge", 400);
}

#[tokio::test]
async fn anonymous_forms_pass_only_when_allowed_and_without_a_principal() {
    let form = fields(&[("key", "k"), ("acl", "public-read")]);
    let outcome = send(
        config_at(t0()).allow_anonymous(true),
        post(&form, "f", b"data"),
    )
    .await;
    assert_eq!(outcome.status, StatusCode::NO_CONTENT, "{outcome:?}");
    let seen = outcome.seen.as_ref().expect("inner service called");
    assert!(seen.principal.is_none());
    assert_eq!(seen.headers["x-amz-acl"], "public-read");
}

#[tokio::test]
async fn a_redirect_is_answered_303_with_the_object() {
    let conditions = r#"{"bucket": "bucket"}, {"key": "k"},
        ["starts-with", "$success_action_redirect", "https://example.com/"]"#;
    let mut form = fields(&[
        ("key", "k"),
        ("success_action_redirect", "https://example.com/done?x=1"),
    ]);
    form.extend(v2_fields(&policy(conditions)));
    let outcome = send(config_at(t0()), post(&form, "f", b"data")).await;
    assert_eq!(outcome.status, StatusCode::SEE_OTHER, "{outcome:?}");
}
