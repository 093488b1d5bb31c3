//! The proxy's own endpoints under `/_deltaglider/` (no bucket name can start with `_`), and
//! request timing for them.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use deltaglider::{DeltaLayer, Either, S3Op};
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

/// Serves `/_deltaglider/metrics` and `/_deltaglider/health`; passes everything else on,
/// timing it.
#[derive(Clone)]
pub(crate) struct AdminLayer {
    pub(crate) delta: DeltaLayer,
    pub(crate) durations: Arc<Durations>,
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
        if let Some(endpoint) = path.strip_prefix("/_deltaglider/") {
            let (status, content_type, body) = match endpoint {
                "health" => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
                "metrics" => (
                    StatusCode::OK,
                    "text/plain; version=0.0.4",
                    crate::metrics::render(&self.layer.delta.metrics(), &self.layer.durations),
                ),
                _ => (
                    StatusCode::NOT_FOUND,
                    "text/plain",
                    "not found\n".to_owned(),
                ),
            };
            let mut response = Response::new(Either::full(Bytes::from(body)));
            *response.status_mut() = status;
            if let Ok(value) = http::HeaderValue::from_str(content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            return Box::pin(async move { Ok(response) });
        }
        let (parts, body) = request.into_parts();
        let op = S3Op::from_request(&parts).kind.name();
        let started = Instant::now();
        let durations = Arc::clone(&self.layer.durations);
        let call = self.inner.call(Request::from_parts(parts, body));
        Box::pin(async move {
            let response = call.await;
            durations.record(op, started.elapsed().as_secs_f64());
            response
        })
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
