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
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use deltaglider::sigv4::Principal;
use deltaglider::{DeltaLayer, Either, S3Error, S3Op};
use http::{Request, Response, StatusCode, header};
use tower::{Layer, Service};

/// Upper bounds (seconds) of the request duration histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One operation's histogram: cumulative bucket counts, count, sum of seconds.
type Histogram = ([u64; BUCKETS.len()], u64, f64);

/// Request durations by operation.
#[derive(Debug, Default)]
pub(crate) struct Durations {
    by_op: Mutex<std::collections::BTreeMap<&'static str, Histogram>>,
}

impl Durations {
    fn record(&self, op: &'static str, seconds: f64) {
        let mut by_op = self
            .by_op
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (buckets, count, sum) = by_op.entry(op).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                buckets[i] += 1;
            }
        }
        *count += 1;
        *sum += seconds;
    }
}

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
            crate::metrics::render(&self.delta.metrics(), &self.durations),
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

impl Durations {
    /// The histogram in Prometheus text form.
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let by_op = self
            .by_op
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str("# HELP deltaglider_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE deltaglider_request_duration_seconds histogram\n");
        for (op, (buckets, count, sum)) in by_op.iter() {
            for (bound, n) in BUCKETS.iter().zip(buckets) {
                let _ = writeln!(
                    out,
                    "deltaglider_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "deltaglider_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "deltaglider_request_duration_seconds_sum{{operation=\"{op}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "deltaglider_request_duration_seconds_count{{operation=\"{op}\"}} {count}"
            );
        }
    }
}
