//! What the stack tests share: signing with the real `aws-sigv4` crate, sending through
//! `SigV4Layer` → `IngestLayer` → a recording backend.

pub(super) use std::convert::Infallible;
pub(super) use std::sync::{Arc, Mutex};
pub(super) use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) use aws_credential_types::Credentials;
pub(super) use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
pub(super) use aws_sigv4::sign::v4;
pub(super) use aws_smithy_runtime_api::client::identity::Identity;
pub(super) use bytes::Bytes;
pub(super) use http::{HeaderMap, Request, Response, StatusCode, Uri};
pub(super) use http_body_util::{BodyExt, Full, StreamBody};
pub(super) use tower::ServiceExt;
pub(super) use tower_layer::Layer;

pub(super) use crate::body::{BoxError, RequestBody};
pub(super) use crate::ingest::{IngestBody, IngestLayer};
pub(super) use crate::sigv4::{Principal, SigV4Config, SigV4Layer, StaticCredentials};

pub(super) const ACCESS_KEY: &str = "AKIDEXAMPLE";
pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(super) const REGION: &str = "us-east-1";
pub(super) const HOST: &str = "s3.example.com:9000";

/// The signing time of most tests.
pub(super) fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Our key, and a clock stopped at `now`.
pub(super) fn config_at(now: SystemTime) -> SigV4Config {
    SigV4Config::new(StaticCredentials::new().with(ACCESS_KEY, SECRET)).clock(move || now)
}

pub(super) fn identity(secret: &str) -> Identity {
    Credentials::new(ACCESS_KEY, secret, None, None, "test").into()
}

/// What AWS SDKs use for S3: no double encoding, no normalization, x-amz-content-sha256.
pub(super) fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings
}

pub(super) fn params(
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
pub(super) fn request(method: &str, path_and_query: &str, body: &[u8]) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path_and_query)
        .header("host", HOST)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request")
}

/// A body sent as these frames.
pub(super) fn frames(
    parts: &[&[u8]],
) -> impl http_body::Body<Data = Bytes, Error = Infallible> + Send + use<> {
    let frames: Vec<Result<http_body::Frame<Bytes>, Infallible>> = parts
        .iter()
        .map(|p| Ok(http_body::Frame::data(Bytes::copy_from_slice(p))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

/// Signs `request` in place with `aws-sigv4`; returns the signature.
pub(super) fn sign<B>(
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
pub(super) struct Seen {
    pub(super) headers: HeaderMap,
    pub(super) uri: Uri,
    pub(super) principal: Option<Principal>,
    /// The body read to its end, or the error it ended with (`<code>: <message>`).
    pub(super) body: Result<Bytes, String>,
}

/// The answer of the layer, and what reached the inner service.
#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) status: StatusCode,
    pub(super) code: Option<String>,
    pub(super) seen: Option<Seen>,
}

impl Outcome {
    /// Asserts a refusal with this code and status, the inner service not called.
    #[track_caller]
    pub(super) fn assert_refused(&self, code: &str, status: u16) {
        assert_eq!(self.code.as_deref(), Some(code), "{self:?}");
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert!(
            self.seen.is_none(),
            "the inner service was called: {self:?}"
        );
    }

    /// Asserts that the inner service got the request and read `body` from it.
    #[track_caller]
    pub(super) fn assert_passed(&self, body: &[u8]) -> &Seen {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        let seen = self.seen.as_ref().expect("inner service called");
        assert_eq!(seen.body.as_deref(), Ok(body), "{self:?}");
        seen
    }
}

/// Sends `request` through a `SigV4Layer` and an `IngestLayer` (which checks the body with
/// what the SigV4 layer hands over) over a service that reads the whole body.
pub(super) async fn send<B>(config: SigV4Config, request: Request<B>) -> Outcome
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    send_buffering(config, IngestLayer::new(), request).await
}

/// [`send`] with this ingest configuration.
pub(super) async fn send_buffering<B>(
    config: SigV4Config,
    ingest: IngestLayer,
    request: Request<B>,
) -> Outcome
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
