//! The proxy's own endpoints under `/_deltaglider/` (no bucket name can start with `_`), and
//! request timing for them.
//!
//! `health` is open to anyone and names nothing. `metrics` names buckets and traffic: when
//! the proxy has client credentials it answers only a request signed with them (SigV4,
//! e.g. `curl --aws-sigv4 "aws:amz:us-east-1:s3" --user AK:SK`) or one carrying the bearer
//! token given with `--metrics-token` (for Prometheus' `authorization` setting). curl
//! before 8.1 leaves out the payload hash S3 signatures need: add
//! `-H "x-amz-content-sha256: UNSIGNED-PAYLOAD"`. The
//! outer [`AdminLayer`] checks the token; a signed request goes on through the signature
//! check to [`MetricsGateLayer`], which serves it once the signature verified.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use deltaglider::sigv4::Principal;
use deltaglider::{DeltaLayer, Either, S3Error, S3Op};
use http::{Request, Response, StatusCode, header};
use tower::{Layer, Service};

use crate::metrics::{self, Durations};

/// What the metrics endpoint serves and who may read it.
pub(crate) struct Endpoints {
    pub(crate) delta: DeltaLayer,
    pub(crate) durations: Arc<Durations>,
    /// Anyone may read metrics: the proxy has no credentials and no token is set.
    pub(crate) open: bool,
    /// The bearer token that grants access to metrics.
    pub(crate) token: Option<String>,
}

impl Endpoints {
    fn metrics<RB>(&self) -> Response<Either<RB>> {
        text(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            metrics::render(&self.delta.metrics(), &self.durations),
        )
    }

    /// Whether `request` carries the metrics token.
    fn has_token<B>(&self, request: &Request<B>) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        let presented = bearer(request).unwrap_or("");
        subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), token.as_bytes()).into()
    }
}

fn text<RB>(status: StatusCode, content_type: &'static str, body: String) -> Response<Either<RB>> {
    let mut response = Response::new(Either::full(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

const METRICS: &str = "/_deltaglider/metrics";
/// The bearer token a request presents, if any.
fn bearer<B>(request: &Request<B>) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn denied<RB>() -> Response<Either<RB>> {
    S3Error::new(
        "AccessDenied",
        StatusCode::FORBIDDEN,
        "Metrics need a request signed with the proxy's credentials or the metrics bearer token",
    )
    .resource(METRICS)
    .to_response()
    .map(Either::full)
}

/// Serves `/_deltaglider/health`, and `/_deltaglider/metrics` to whoever may read it
/// without a signature; passes everything else on, timing it.
#[derive(Clone)]
pub(crate) struct AdminLayer {
    pub(crate) endpoints: Arc<Endpoints>,
}

impl<S> Layer<S> for AdminLayer {
    type Service = Admin<S>;

    fn layer(&self, inner: S) -> Admin<S> {
        Admin {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`AdminLayer`].
#[derive(Clone)]
pub(crate) struct Admin<S> {
    inner: S,
    layer: AdminLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<Request<B>> for Admin<S>
where
    S: Service<Request<B>, Response = Response<Either<RB>>> + Send + 'static,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<Either<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let path = request.uri().path();
        let endpoints = &self.layer.endpoints;
        if path == METRICS {
            if endpoints.open || endpoints.has_token(&request) {
                let response = endpoints.metrics();
                return Box::pin(async move { Ok(response) });
            }
            if bearer(&request).is_some() {
                let response = denied();
                return Box::pin(async move { Ok(response) });
            }
            // On to the signature check and the gate behind it.
            return Box::pin(self.inner.call(request));
        }
        if let Some(endpoint) = path.strip_prefix("/_deltaglider/") {
            let response = match endpoint {
                "health" => text(StatusCode::OK, "text/plain", "ok\n".to_owned()),
                _ => text(
                    StatusCode::NOT_FOUND,
                    "text/plain",
                    "not found\n".to_owned(),
                ),
            };
            return Box::pin(async move { Ok(response) });
        }
        let (parts, body) = request.into_parts();
        let op = S3Op::from_request(&parts).kind.name();
        let started = Instant::now();
        let durations = Arc::clone(&endpoints.durations);
        let call = self.inner.call(Request::from_parts(parts, body));
        Box::pin(async move {
            let response = call.await;
            durations.record(op, started.elapsed().as_secs_f64());
            response
        })
    }
}

/// Behind the signature check: serves `/_deltaglider/metrics` to a request whose
/// signature verified, refuses it to any other.
#[derive(Clone)]
pub(crate) struct MetricsGateLayer {
    pub(crate) endpoints: Arc<Endpoints>,
}

impl<S> Layer<S> for MetricsGateLayer {
    type Service = MetricsGate<S>;

    fn layer(&self, inner: S) -> MetricsGate<S> {
        MetricsGate {
            inner,
            endpoints: Arc::clone(&self.endpoints),
        }
    }
}

/// See [`MetricsGateLayer`].
#[derive(Clone)]
pub(crate) struct MetricsGate<S> {
    inner: S,
    endpoints: Arc<Endpoints>,
}

impl<S, B, RB> Service<Request<B>> for MetricsGate<S>
where
    S: Service<Request<B>, Response = Response<Either<RB>>> + Send + 'static,
    S::Future: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<Either<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if request.uri().path() != METRICS {
            return Box::pin(self.inner.call(request));
        }
        let response = if request.extensions().get::<Principal>().is_some() {
            self.endpoints.metrics()
        } else {
            denied()
        };
        Box::pin(async move { Ok(response) })
    }
}
