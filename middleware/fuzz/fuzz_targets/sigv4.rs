//! SigV4 verification (`deltaglider::sigv4::SigV4Layer`, with the `IngestLayer` behind it
//! checking the body against what the signature says of it): canonical URI, query and
//! headers, the `Authorization` header and presigned query parameters.
//!
//! Input: flags (bit 0: presigned; bit 1: sign with a wrong secret; bit 2: send the raw
//! request unsigned with a fuzzed `Authorization` header instead), a method, then path
//! segments, query pairs and headers as length-prefixed byte strings, then the body.
//!
//! Checks: no panic; a request the AWS SDK's own signer (`aws-sigv4`) signed passes
//! unchanged whatever its path, query and header values (the canonicalisation agrees with
//! AWS's), with its body intact; signed with the wrong secret, it is refused; every refusal
//! is an S3 error with a code and never reaches the service behind.
#![no_main]

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use common::{Input, run};
use deltaglider::RequestBody;
use deltaglider::ingest::{IngestBody, IngestLayer};
use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use tower_layer::Layer;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "s3.example.com:9000";
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Percent-encodes the UTF-8 of `bytes` (clients build URIs from strings; invalid
/// sequences become U+FFFD) but the unreserved characters, as SDKs do.
fn encode(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A header value made of the bytes HTTP allows (visible ASCII, space and tab).
fn header_value(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b' ' | b'\t' | 0x21..=0x7e => char::from(b),
            _ => char::from(b'a' + b % 26),
        })
        .collect()
}

/// A header name from `[a-z0-9-]`, never one the signer or the protocol owns.
fn header_name(bytes: &[u8]) -> Option<String> {
    const ABC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    let name: String = bytes
        .iter()
        .map(|&b| char::from(ABC[usize::from(b) % ABC.len()]))
        .collect();
    let owned = [
        "host",
        "authorization",
        "content-length",
        "transfer-encoding",
        "expect",
    ];
    (!name.is_empty() && !name.starts_with("x-amz-") && !owned.contains(&name.as_str()))
        .then_some(name)
}

/// The answer of `SigV4Layer` → `IngestLayer`: status, error code, and the body the service
/// behind read (if called).
fn send(request: Request<Full<Bytes>>) -> (u16, Option<String>, Option<Result<Bytes, String>>) {
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(
        move |request: Request<IngestBody<RequestBody<Full<Bytes>>>>| {
            let record = Arc::clone(&record);
            async move {
                let body = match request.into_body().collect().await {
                    Ok(c) => Ok(c.to_bytes()),
                    Err(e) => Err(e.to_string()),
                };
                *record.lock().expect("lock") = Some(body);
                Ok::<_, Infallible>(Response::new(String::new()))
            }
        },
    );
    let config = SigV4Config::new(StaticCredentials::new().with(ACCESS_KEY, SECRET))
        .clock(|| t0() + Duration::from_secs(5));
    let service = SigV4Layer::new(config).layer(IngestLayer::new().layer(inner));
    let response = run(service.oneshot(request)).expect("infallible");
    let code = response
        .headers()
        .get("x-amz-error-code")
        .map(|v| v.to_str().expect("ascii code").to_owned());
    let seen = seen.lock().expect("lock").take();
    (response.status().as_u16(), code, seen)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    let method = METHODS[usize::from(input.byte()) % METHODS.len()];
    let mut path = String::from("/bucket");
    for _ in 0..usize::from(input.byte() % 4) {
        path.push('/');
        path.push_str(&encode(input.bytes(24)));
    }
    let mut query = Vec::new();
    for _ in 0..usize::from(input.byte() % 4) {
        let name = encode(input.bytes(12));
        let value = encode(input.bytes(24));
        if !name.is_empty() && !name.to_ascii_lowercase().starts_with("x-amz-") {
            query.push(format!("{name}={value}"));
        }
    }
    let mut headers = Vec::new();
    for _ in 0..usize::from(input.byte() % 4) {
        let name = header_name(input.bytes(12));
        let value = header_value(input.bytes(32));
        if let Some(name) = name {
            headers.push((name, value));
        }
    }
    let authorization = header_value(input.bytes(255));
    let body = input.rest();
    let uri = if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(&uri)
        .header("host", HOST);
    for (name, value) in &headers {
        builder = builder.header(name, value);
    }
    let Ok(mut request) = builder.body(Full::new(Bytes::copy_from_slice(body))) else {
        return;
    };

    if flags & 4 != 0 {
        // Whatever comes: an S3 error, never a panic, never the service behind.
        if let Ok(value) = authorization.parse() {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        let (status, code, seen) = send(request);
        assert!(status >= 400 && code.is_some(), "{status} {code:?}");
        assert!(seen.is_none(), "a forged request reached the service");
        return;
    }

    let presigned = flags & 1 != 0;
    let wrong = flags & 2 != 0;
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let secret = if wrong { "not-the-secret" } else { SECRET };
    let identity: Identity = Credentials::new(ACCESS_KEY, secret, None, None, "fuzz").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(t0())
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let url = format!("http://{HOST}{uri}");
    let pairs: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ascii").to_owned()))
        .collect();
    let signable_body = if presigned {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(body)
    };
    let Ok(signable) = SignableRequest::new(
        method,
        url,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        signable_body,
    ) else {
        return;
    };
    let Ok(signed) = http_request::sign(signable, &params) else {
        return;
    };
    signed.into_parts().0.apply_to_request_http1x(&mut request);
    let (status, code, seen) = send(request);
    if wrong {
        assert_eq!(code.as_deref(), Some("SignatureDoesNotMatch"), "{status}");
        assert!(
            seen.is_none(),
            "a wrongly signed request reached the service"
        );
    } else {
        assert_eq!(
            (status, code.as_deref()),
            (200, None),
            "a request signed by aws-sigv4 was refused: {uri}"
        );
        assert_eq!(
            seen,
            Some(Ok(Bytes::copy_from_slice(body))),
            "the body changed"
        );
    }
});
