//! The upstream backend: a real S3 endpoint reached over HTTP(S), as a tower service.
//!
//! Every request the DeltaLayer sends inward is re-addressed to the upstream (path style),
//! cleaned of what belonged to the client's connection and signature, given a plain body
//! (an `aws-chunked` upload is decoded as it streams, its trailing checksum verified), then
//! signed with the upstream credentials by the middleware's
//! [`SignLayer`] (for a verified client; an anonymous one stays anonymous, unless the
//! proxy verifies no client at all) and sent. Payloads are sent as `UNSIGNED-PAYLOAD`:
//! hashing every body before sending would mean buffering it, and the proxy has already
//! checked what the client signed. A connection failure is answered as `503 SlowDown`-style
//! `ServiceUnavailable`, which clients retry — never as "not found".

mod request;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use deltaglider::sigv4::{SignConfig, SignLayer};
use deltaglider::{BoxError, Either, S3Error};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, Error as LegacyError};
use hyper_util::rt::TokioExecutor;
use tower::{Layer, Service};

use crate::config;
pub(crate) use request::Endpoint;
use request::UpstreamBody;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// An S3 endpoint as an inner service for the DeltaLayer.
#[derive(Clone)]
pub(crate) struct Upstream {
    client: Client<Connector, UpstreamBody>,
    endpoint: Arc<Endpoint>,
    signer: Option<SignLayer>,
}

impl Upstream {
    /// A client for `settings`; fails on a URL that is not `http(s)://host[:port]`.
    /// `sign_anonymous`: whether requests without a verified client (no
    /// [`Principal`](deltaglider::sigv4::Principal)) are signed with the upstream
    /// credentials too ([`SignConfig::sign_anonymous`]).
    pub(crate) fn new(settings: &config::Upstream, sign_anonymous: bool) -> Result<Self, String> {
        let endpoint = Endpoint::parse(&settings.url)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut http = HttpConnector::new();
        // Requests are written in pieces (head, body); Nagle would hold each back a round trip.
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("cannot load the system's TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let signer = settings.credentials.as_ref().map(|(access, secret)| {
            SignLayer::new(
                SignConfig::new(access, secret, &settings.region).sign_anonymous(sign_anonymous),
            )
        });
        Ok(Self {
            client,
            endpoint: Arc::new(endpoint),
            signer,
        })
    }

    /// The endpoint, for log lines.
    pub(crate) fn describe(&self) -> String {
        self.endpoint.to_string()
    }
}

/// The client's answer, signed or not.
type SentFuture =
    Pin<Box<dyn Future<Output = Result<Response<Either<Incoming>>, LegacyError>> + Send>>;

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Either<Incoming>>, Infallible>> + Send>>;

impl<B> Service<Request<B>> for Upstream
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Either<Incoming>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let request = match request::prepare(request, &self.endpoint) {
            Ok(request) => request,
            Err(error) => {
                let response = error.to_response().map(Either::full);
                return Box::pin(async move { Ok(response) });
            }
        };
        let (method, uri) = (request.method().clone(), request.uri().clone());
        // Called here, not in the async block: there the compiler cannot see that the
        // client's request body type (a boxed `dyn Error`) is the same for every lifetime.
        let sent: SentFuture = match &self.signer {
            Some(signer) => Box::pin(signer.layer(self.client.clone()).call(request)),
            None => {
                let sent = self.client.request(request);
                Box::pin(async move { sent.await.map(|r| r.map(Either::passthrough)) })
            }
        };
        Box::pin(async move {
            match sent.await {
                Ok(response) => Ok(response),
                Err(error) => {
                    tracing::warn!(%method, %uri, error = %error_chain(&error), "upstream request failed");
                    Ok(S3Error::new(
                        "ServiceUnavailable",
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The storage backend could not be reached; please retry.",
                    )
                    .to_response()
                    .map(Either::full))
                }
            }
        })
    }
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
