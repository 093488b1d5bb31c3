//! The real `aws-sdk-s3` client, in-process (no socket), against a tower service stack over
//! an `s3s-fs` backend in a directory.

use std::path::Path;

use aws_sdk_s3::config::{Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use deltaglider::{Delta, DeltaConfig, DeltaLayer};
use http_body_util::BodyExt;
use tower::{Layer, ServiceExt};

/// An `s3s` service storing buckets as directories under `root` (auth disabled: in the
/// real stack the client's signature is checked in front of the layer).
pub fn fs_backend(root: &Path) -> s3s::service::S3Service {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs over the scratch directory");
    s3s::service::S3ServiceBuilder::new(fs).build()
}

/// An `s3s-fs` backend without the layer, for comparisons. (The request body is wrapped
/// only so that its error type implements `std::error::Error`, as s3s requires.)
pub fn plain(
    root: std::path::PathBuf,
) -> impl tower::Service<
    http::Request<SdkBody>,
    Response = http::Response<s3s::Body>,
    Error = s3s::HttpError,
    Future = impl Send,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::ServiceBuilder::new()
        .map_request(|r: http::Request<SdkBody>| r.map(deltaglider::Either::passthrough))
        .service(fs_backend(&root))
}

/// The layer over an `s3s-fs` backend.
pub fn layered(root: &Path, config: DeltaConfig) -> (Delta<s3s::service::S3Service>, DeltaLayer) {
    let layer = DeltaLayer::new(config);
    (layer.layer(fs_backend(root)), layer)
}

/// An `aws-sdk-s3` client whose every request is served by `service`.
pub fn client<S>(service: S) -> aws_sdk_s3::Client
where
    S: ServiceOf + Clone + Send + Sync + 'static,
{
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://localhost:9000")
        .force_path_style(true)
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .http_client(InProcess(service))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The service shape the in-process client drives.
pub trait ServiceOf:
    tower::Service<
        http::Request<SdkBody>,
        Response = http::Response<Self::Body>,
        Error = Self::Err,
        Future = Self::Fut,
    >
{
    /// Response body.
    type Body: http_body::Body<Data = Bytes, Error = Self::BodyErr> + Send + 'static;
    /// Response body error.
    type BodyErr: Into<Box<dyn std::error::Error + Send + Sync>>;
    /// Service error.
    type Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static;
    /// Service future.
    type Fut: Send;
}

impl<S, B, E> ServiceOf for S
where
    S: tower::Service<http::Request<SdkBody>, Response = http::Response<B>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    S::Future: Send,
    B: http_body::Body<Data = Bytes, Error = E> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Body = B;
    type BodyErr = E;
    type Err = S::Error;
    type Fut = S::Future;
}

#[derive(Clone)]
struct InProcess<S>(S);

impl<S> std::fmt::Debug for InProcess<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl<S> std::fmt::Debug for Connector<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

struct Connector<S>(S);

impl<S> HttpClient for InProcess<S>
where
    S: ServiceOf + Clone + Send + Sync + 'static,
{
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector(self.0.clone()))
    }
}

impl<S> HttpConnector for Connector<S>
where
    S: ServiceOf + Clone + Send + Sync + 'static,
{
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let service = self.0.clone();
        HttpConnectorFuture::new(async move {
            let mut request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
            // Stands in for the SigV4 verification layer that sits in front of DeltaLayer in
            // a real stack: the signature is checked there and not forwarded (the layer
            // rewrites requests, so it could not be forwarded anyway).
            request.headers_mut().remove(http::header::AUTHORIZATION);
            request.headers_mut().remove("x-amz-security-token");
            if !request.headers().contains_key(http::header::HOST) {
                request.headers_mut().insert(
                    http::header::HOST,
                    http::HeaderValue::from_static("localhost:9000"),
                );
            }
            let response = service
                .oneshot(request)
                .await
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| ConnectorError::other(e.into(), None))?
                .to_bytes();
            let response = http::Response::from_parts(parts, SdkBody::from(body));
            HttpResponse::try_from(response).map_err(|e| ConnectorError::other(Box::new(e), None))
        })
    }
}
