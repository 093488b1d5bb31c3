//! Tests: requests signed by the real `aws-sigv4` crate (the AWS SDK's signer), verified,
//! then tampered with.

mod chunked;
mod header;
mod post;
mod presign;
mod v2;

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
use http::{HeaderMap, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, StreamBody};
use tower::ServiceExt;
use tower_layer::Layer;

use super::{Principal, SigV4Config, SigV4Layer, StaticCredentials};
use crate::body::{BoxError, RequestBody};
use crate::ingest::{IngestBody, IngestLayer};

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const HOST: &str = "s3.example.com:9000";

/// The signing time of most tests.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Our key, and a clock stopped at `now`.
fn config_at(now: SystemTime) -> SigV4Config {
    SigV4Config::new(StaticCredentials::new().with(ACCESS_KEY, SECRET)).clock(move || now)
}

fn identity(secret: &str) -> Identity {
    Credentials::new(ACCESS_KEY, secret, None, None, "test").into()
}

/// What AWS SDKs use for S3: no double encoding, no normalization, x-amz-content-sha256.
fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings
}

fn params(
    identity: &Identity,
    time: SystemTime,
    settings: SigningSettings,
) -> v4::SigningParams<'_, SigningSettings> {
    v4::SigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .expect("signing params")
}

/// A request as a server receives it: origin-form URI and a `host` header.
fn request(method: &str, path_and_query: &str, body: &[u8]) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path_and_query)
        .header("host", HOST)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request")
}

/// A body sent as these frames.
fn frames(
    parts: &[&[u8]],
) -> impl http_body::Body<Data = Bytes, Error = Infallible> + Send + use<> {
    let frames: Vec<Result<http_body::Frame<Bytes>, Infallible>> = parts
        .iter()
        .map(|p| Ok(http_body::Frame::data(Bytes::copy_from_slice(p))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

/// Signs `request` in place with `aws-sigv4`; returns the signature.
fn sign<B>(
    request: &mut Request<B>,
    body: SignableBody<'_>,
    settings: SigningSettings,
    time: SystemTime,
    secret: &str,
) -> String {
    let identity = identity(secret);
    let params = params(&identity, time, settings).into();
    let url = format!("http://{HOST}{}", request.uri());
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ascii").to_owned()))
        .collect();
    let method = request.method().as_str().to_owned();
    let signable = SignableRequest::new(
        &method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        body,
    )
    .expect("signable request");
    let (instructions, signature) = http_request::sign(signable, &params)
        .expect("sign")
        .into_parts();
    instructions.apply_to_request_http1x(request);
    signature
}

/// What the inner service received.
#[derive(Debug)]
struct Seen {
    headers: HeaderMap,
    uri: Uri,
    principal: Option<Principal>,
    /// The body read to its end, or the error it ended with (`<code>: <message>`).
    body: Result<Bytes, String>,
}

/// The answer of the layer, and what reached the inner service.
#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    code: Option<String>,
    seen: Option<Seen>,
}

impl Outcome {
    /// Asserts a refusal with this code and status, the inner service not called.
    #[track_caller]
    fn assert_refused(&self, code: &str, status: u16) {
        assert_eq!(self.code.as_deref(), Some(code), "{self:?}");
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert!(
            self.seen.is_none(),
            "the inner service was called: {self:?}"
        );
    }

    /// Asserts that the inner service got the request and read `body` from it.
    #[track_caller]
    fn assert_passed(&self, body: &[u8]) -> &Seen {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        let seen = self.seen.as_ref().expect("inner service called");
        assert_eq!(seen.body.as_deref(), Ok(body), "{self:?}");
        seen
    }
}

/// Sends `request` through a `SigV4Layer` and an `IngestLayer` (which checks the body with
/// what the SigV4 layer hands over) over a service that reads the whole body.
async fn send<B>(config: SigV4Config, request: Request<B>) -> Outcome
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    send_buffering(config, IngestLayer::new(), request).await
}

/// [`send`] with this ingest configuration.
async fn send_buffering<B>(config: SigV4Config, ingest: IngestLayer, request: Request<B>) -> Outcome
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(move |request: Request<IngestBody<RequestBody<B>>>| {
        let record = Arc::clone(&record);
        async move {
            let (parts, body) = request.into_parts();
            let body = match body.collect().await {
                Ok(collected) => Ok(collected.to_bytes()),
                Err(e) => Err(e.to_string()),
            };
            *record.lock().expect("lock") = Some(Seen {
                headers: parts.headers,
                uri: parts.uri,
                principal: parts.extensions.get::<Principal>().cloned(),
                body,
            });
            Ok::<_, Infallible>(Response::new(String::from("ok")))
        }
    });
    let response = SigV4Layer::new(config)
        .layer(ingest.layer(inner))
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let code = response
        .headers()
        .get("x-amz-error-code")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    if let Some(code) = &code {
        let xml = String::from_utf8_lossy(&body);
        assert!(xml.contains(&format!("<Code>{code}</Code>")), "{xml}");
    }
    let seen = seen.lock().expect("lock").take();
    Outcome { status, code, seen }
}

/// In front of the `DeltaLayer`, as in the proxy: the stack is a `Send` tower service.
#[tokio::test]
async fn composes_in_front_of_the_delta_layer() {
    use crate::DeltaConfig;
    use crate::DeltaLayer;
    use crate::RequestBody;
    let backend = tower::service_fn(
        |r: Request<RequestBody<IngestBody<RequestBody<Full<Bytes>>>>>| async move {
            assert!(!r.headers().contains_key("authorization"));
            Ok::<_, Infallible>(Response::new(String::from("<ListAllMyBucketsResult/>")))
        },
    );
    let stack = tower::ServiceBuilder::new()
        .layer(SigV4Layer::new(config_at(t0())))
        .layer(IngestLayer::new())
        .layer(DeltaLayer::new(DeltaConfig::default()))
        .service(backend);
    let mut r = request("GET", "/", b"");
    sign(
        &mut r,
        SignableBody::Bytes(b""),
        s3_settings(),
        t0(),
        SECRET,
    );
    let future = stack.clone().oneshot(r);
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&future);
    assert_eq!(future.await.expect("infallible").status(), StatusCode::OK);
    let refused = stack.oneshot(request("GET", "/", b"")).await;
    assert_eq!(refused.expect("infallible").status(), StatusCode::FORBIDDEN);
}
