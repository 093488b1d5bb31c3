//! The proxy's own endpoints under `/_deltaglider/` (no bucket name can start with `_`), and
//! request timing for them.
//!
//! - `health`: open to anyone, names nothing.
//! - `` (the dashboard page) and `assets/…`: open (they hold no figures); the page asks
//!   for a sign-in when the API refuses it.
//! - `login`, `logout`: the dashboard's session ([`session`]): a form with the proxy's
//!   access key and secret key.
//! - `metrics` (Prometheus), `api/live` (this process), `api/savings` and
//!   `api/reconcile` (the savings ledger, served by the DeltaLayer): names buckets and
//!   traffic, so when the proxy has client credentials only a request signed with them
//!   (SigV4, e.g. `curl --aws-sigv4 "aws:amz:us-east-1:s3" --user AK:SK`), one carrying the
//!   bearer token given with `--metrics-token` (for Prometheus' `authorization` setting),
//!   or one with a dashboard session reads them. curl before 8.1 leaves out the payload
//!   hash S3 signatures need: add `-H "x-amz-content-sha256: UNSIGNED-PAYLOAD"`. A
//!   session's POST must also carry `X-Requested-With` (a cross-site form cannot).
//!
//! The outer [`AdminLayer`] checks tokens and sessions; a signed request goes on through
//! the signature check to [`MetricsGateLayer`] (metrics) or to the DeltaLayer (the API).

mod dashboard;
mod session;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use deltaglider::sigv4::Principal;
use deltaglider::{BoxError, DeltaLayer, Either, S3Error, S3Op};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::{Layer, Service};

use crate::metrics::{self, BucketSavings, Durations};
pub(crate) use query::{Query, query_of};

mod query;

/// What the endpoints serve and who may read it.
pub(crate) struct Endpoints {
    pub(crate) delta: DeltaLayer,
    pub(crate) durations: Arc<Durations>,
    /// Anyone may read metrics: the proxy has no credentials and no token is set.
    pub(crate) open: bool,
    /// The bearer token that grants access to metrics and the API.
    pub(crate) token: Option<String>,
    /// The client credentials, which sign dashboard sessions.
    pub(crate) keys: session::Keys,
    /// Requests to the core service (the DeltaLayer over the backend).
    pub(crate) query: Query,
    /// Counts of refused signatures, by reason.
    pub(crate) refusals: Arc<dyn Fn() -> Vec<(&'static str, u64)> + Send + Sync>,
    /// When the proxy started.
    pub(crate) started: Instant,
}

/// How a request to a guarded endpoint is allowed, if it is.
enum Access {
    /// Open proxy, or the bearer token.
    Granted,
    /// A dashboard session of this access key.
    Session(String),
    /// Signed (or trying to be): the signature check decides.
    Signed,
    /// Nothing that could grant it.
    Denied,
}

impl Endpoints {
    fn access<B>(&self, request: &Request<B>) -> Access {
        if self.open || self.has_token(request) {
            return Access::Granted;
        }
        let cookies = request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        if let Some(access) = session::verify(&self.keys, &cookies) {
            return Access::Session(access);
        }
        let signed = request.headers().contains_key(header::AUTHORIZATION)
            && bearer(request).is_none()
            || request
                .uri()
                .query()
                .is_some_and(|q| q.contains("X-Amz-Signature="));
        if signed {
            Access::Signed
        } else {
            Access::Denied
        }
    }

    /// The metrics text: the ledger's figures (through the core) and this process's.
    async fn metrics(self: Arc<Self>, principal: Option<Principal>) -> Response<Bytes> {
        let savings = self.savings(principal).await;
        let body = metrics::render(
            &self.delta.metrics(),
            &self.durations,
            &savings,
            &(self.refusals)(),
        );
        dashboard::answer(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            Bytes::from(body),
        )
    }

    /// This process's live figures (`api/live`) as JSON.
    fn live(&self) -> Response<Bytes> {
        let live = dashboard::live(
            &self.delta.metrics(),
            &self.durations,
            self.started.elapsed().as_secs_f64(),
        );
        dashboard::answer(
            StatusCode::OK,
            "application/json",
            Bytes::from(live.to_string()),
        )
    }

    /// Every bucket's ledger figures; none when the backend cannot be asked (logged).
    async fn savings(&self, principal: Option<Principal>) -> Vec<BucketSavings> {
        let request = query::request(Method::GET, "/_deltaglider/api/savings", principal);
        match (self.query)(request).await {
            Ok(response) if response.status().is_success() => {
                metrics::parse_savings(response.body()).unwrap_or_default()
            }
            Ok(response) => {
                tracing::warn!(
                    status = response.status().as_u16(),
                    "savings figures unavailable for metrics"
                );
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(error = e, "savings figures unavailable for metrics");
                Vec::new()
            }
        }
    }

    /// Whether `request` carries the metrics token.
    fn has_token<B>(&self, request: &Request<B>) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        let presented = bearer(request).unwrap_or("");
        subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), token.as_bytes()).into()
    }

    /// The identity the layer's own backend requests act as for a granted request: the
    /// first client credential, when there are any.
    fn acting(&self, access: &Access) -> Option<Principal> {
        match access {
            Access::Session(key) => Some(Principal::established(key, "")),
            _ => self
                .keys
                .first()
                .map(|(key, _)| Principal::established(key, "")),
        }
    }
}

/// The bearer token a request presents, if any.
fn bearer<B>(request: &Request<B>) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn denied(resource: &str) -> Response<Bytes> {
    let mut response = S3Error::new(
        "AccessDenied",
        StatusCode::FORBIDDEN,
        "Needs a request signed with the proxy's credentials, the metrics bearer token or a dashboard session",
    )
    .resource(resource)
    .to_response();
    if resource.contains("/api/") {
        // The dashboard tells "sign in" from other failures by this status.
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    response
}

fn not_found() -> Response<Bytes> {
    dashboard::answer(
        StatusCode::NOT_FOUND,
        "text/plain",
        Bytes::from_static(b"not found\n"),
    )
}

/// Serves `/_deltaglider/…` to whoever may read it without a signature; passes everything
/// else on, timing it.
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
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
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
        if path == "/_deltaglider" {
            let response = dashboard::redirect("/_deltaglider/", None).map(Either::full);
            return Box::pin(async move { Ok(response) });
        }
        let Some(endpoint) = path.strip_prefix("/_deltaglider/").map(str::to_owned) else {
            return self.timed(request);
        };
        let endpoints = Arc::clone(&self.layer.endpoints);
        let access = endpoints.access(&request);
        if matches!(access, Access::Signed) && guarded(&endpoint) {
            // On to the signature check, then the metrics gate or the DeltaLayer's API.
            return Box::pin(self.inner.call(request));
        }
        Box::pin(async move {
            let response = own(endpoints, &endpoint, access, request).await;
            Ok(response.map(Either::full))
        })
    }
}

impl<S> Admin<S> {
    fn timed<B, RB>(
        &mut self,
        request: Request<B>,
    ) -> BoxFuture<Result<Response<Either<RB>>, S::Error>>
    where
        S: Service<Request<B>, Response = Response<Either<RB>>> + Send + 'static,
        S::Future: Send + 'static,
    {
        let (parts, body) = request.into_parts();
        let op = S3Op::from_request(&parts).kind.name();
        let started = Instant::now();
        let durations = Arc::clone(&self.layer.endpoints.durations);
        let call = self.inner.call(Request::from_parts(parts, body));
        Box::pin(async move {
            let response = call.await;
            let status = response.as_ref().map_or(0, |r| r.status().as_u16());
            durations.record(op, status, started.elapsed().as_secs_f64());
            response
        })
    }
}

/// Endpoints that show figures.
fn guarded(endpoint: &str) -> bool {
    endpoint == "metrics" || endpoint.starts_with("api/")
}

/// Largest sign-in form read.
const MAX_FORM: usize = 8 << 10;

/// What the proxy answers itself at `/_deltaglider/<endpoint>`.
async fn own<B>(
    endpoints: Arc<Endpoints>,
    endpoint: &str,
    access: Access,
    request: Request<B>,
) -> Response<Bytes>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let method = request.method().clone();
    let allowed = matches!(access, Access::Granted | Access::Session(_));
    match (&method, endpoint) {
        (_, "health") => {
            dashboard::answer(StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n"))
        }
        (&Method::GET | &Method::HEAD, "" | "assets/dashboard.css" | "assets/dashboard.js") => {
            dashboard::asset(endpoint).unwrap_or_else(not_found)
        }
        (&Method::POST, "login") => {
            let limited = http_body_util::Limited::new(request.into_body(), MAX_FORM);
            match limited.collect().await {
                Ok(form) => dashboard::sign_in(&endpoints.keys, &form.to_bytes()),
                Err(_) => dashboard::redirect("/_deltaglider/?failed=1", None),
            }
        }
        (&Method::POST, "logout") => {
            dashboard::redirect("/_deltaglider/", Some(session::set_cookie(None)))
        }
        (_, e) if guarded(e) && !allowed => {
            if bearer(&request).is_some() {
                tracing::warn!(
                    endpoint,
                    reason = "bad_token",
                    "refused a metrics or API request"
                );
            }
            denied(&format!("/_deltaglider/{endpoint}"))
        }
        (&Method::GET, "metrics") => {
            let principal = endpoints.acting(&access);
            endpoints.metrics(principal).await
        }
        (&Method::GET, "api/live") => endpoints.live(),
        (_, e) if e.starts_with("api/") => api(&endpoints, access, request).await,
        _ => not_found(),
    }
}

/// The savings API, answered by the DeltaLayer through the core service.
async fn api<B>(endpoints: &Endpoints, access: Access, request: Request<B>) -> Response<Bytes> {
    let session = matches!(access, Access::Session(_));
    if session
        && request.method() != Method::GET
        && !request.headers().contains_key("x-requested-with")
    {
        return S3Error::new(
            "AccessDenied",
            StatusCode::FORBIDDEN,
            "a dashboard session's POST needs the X-Requested-With header",
        )
        .to_response();
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let forwarded = query::request(
        request.method().clone(),
        &path_and_query,
        endpoints.acting(&access),
    );
    match (endpoints.query)(forwarded).await {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = e, "the savings API failed");
            S3Error::internal("the backend failed").to_response()
        }
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
        let path = request.uri().path();
        let api = path.starts_with("/_deltaglider/api/");
        if path != "/_deltaglider/metrics" && !api {
            return Box::pin(self.inner.call(request));
        }
        let principal = request.extensions().get::<Principal>().cloned();
        let endpoints = Arc::clone(&self.endpoints);
        let resource = path.to_owned();
        if api && principal.is_some() && path != "/_deltaglider/api/live" {
            // The DeltaLayer serves the savings API.
            return Box::pin(self.inner.call(request));
        }
        Box::pin(async move {
            let response = match principal {
                Some(_) if api => endpoints.live(),
                Some(principal) => endpoints.metrics(Some(principal)).await,
                None => denied(&resource),
            };
            Ok(response.map(Either::full))
        })
    }
}
