//! `deltaglider-proxy`: an S3 endpoint that stores binary-similar objects as deltas.
//!
//! The stack, outermost first (see `main`):
//!
//! ```text
//! admin endpoints + timing → client SigV4 verification → DeltaLayer
//!   → filesystem guard → s3s-fs (embedded backend, authentication off: the proxy checked
//!     the client)
//!   or → re-addressing + SigV4 signing with the upstream's credentials → hyper client
//!     (`--upstream URL`)
//! ```
//!
//! Run it with `cargo run --release -p deltaglider-proxy`, then point any S3 client at
//! `http://127.0.0.1:9000`. `--help` lists every setting.
#![forbid(unsafe_code)]

mod admin;
mod config;
mod guard;
mod metrics;
mod server;
mod upstream;

use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use clap::Parser;
use deltaglider::sigv4::{SigV4Body, SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{BoxError, Contents, DeltaConfig, DeltaLayer, Either};
use http::Request;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder};
use tracing_subscriber::EnvFilter;

use crate::admin::AdminLayer;
use crate::config::{Args, Settings};
use crate::guard::FsGuardLayer;
use crate::upstream::Upstream;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let settings = match Settings::resolve(Args::parse()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let delta = DeltaLayer::new(
        DeltaConfig::default()
            .max_delta_ratio(settings.max_delta_ratio)
            .cache_bytes(settings.cache_size_mb << 20)
            .references(settings.references)
            .gzip_payloads(settings.gzip_payloads)
            .max_payload_size(settings.max_payload_size_mb << 20)
            .rebuilt_cache_bytes(settings.rebuilt_cache_mb << 20)
            // Encoding runs on tokio's blocking pool, not on the threads serving requests.
            .offload(|job| {
                tokio::task::spawn_blocking(job);
            }),
    );
    if let Some(upstream) = &settings.upstream {
        // Innermost first: the upstream client (re-addressing, re-signing), the DeltaLayer.
        let backend = Upstream::new(upstream)?;
        tracing::info!(upstream = %backend.describe(), "backend: upstream S3 endpoint");
        if settings.raw {
            return serve_raw(listener, backend).await;
        }
        let core = ServiceBuilder::new()
            .map_response(|r: http::Response<Either<Either<Incoming>>>| r.map(Either::flatten))
            .layer(delta.clone())
            .service(backend);
        return serve(listener, &settings, delta, core).await;
    }
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let backend = s3s_fs::FileSystem::new(&settings.data_dir)
        .map_err(|e| format!("cannot open {}: {e:?}", settings.data_dir.display()))?;
    // The proxy authenticates clients itself; the embedded backend runs without auth.
    let backend = s3s::service::S3ServiceBuilder::new(backend).build();
    tracing::info!(data_dir = %settings.data_dir.display(), "backend: embedded filesystem");
    let guard = FsGuardLayer::new(settings.data_dir.clone());
    if settings.raw {
        return serve_raw(
            listener,
            ServiceBuilder::new().layer(guard).service(backend),
        )
        .await;
    }
    // Innermost first: the guard in front of the filesystem, the DeltaLayer in front of it.
    let core = ServiceBuilder::new()
        .layer(delta.clone())
        .map_response(|r: http::Response<Either<s3s::Body>>| r.map(guard_body))
        .layer(guard)
        .service(backend);
    serve(listener, &settings, delta, core).await
}

/// A request body as the core service gets it, whichever way the client was checked.
type ClientBody = UnsyncBoxBody<Bytes, BoxError>;

/// Serves `core` (DeltaLayer over a backend) behind the admin endpoints and the client
/// signature check.
async fn serve<S, RB>(
    listener: TcpListener,
    settings: &Settings,
    delta: DeltaLayer,
    core: S,
) -> Result<(), String>
where
    S: Service<Request<ClientBody>, Response = http::Response<Either<RB>>> + Clone + Send + 'static,
    S::Error: std::fmt::Debug + Into<BoxError> + Send + 'static,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    let admin = AdminLayer {
        delta,
        durations: Arc::default(),
    };
    let anonymous = settings.credentials.is_empty();
    tracing::info!(
        listen = %server::describe(settings.listen),
        signatures = if anonymous { "not checked" } else { "verified" },
        unsigned_requests = if anonymous || settings.allow_anonymous { "allowed" } else { "refused" },
        "deltaglider-proxy serving"
    );
    if anonymous {
        let service = ServiceBuilder::new()
            .map_result(answer_internal_failure)
            .layer(admin)
            .map_request(|r: Request<Incoming>| strip_authorization(r).map(boxed))
            .service(core);
        server::serve(listener, service, server::shutdown_signal()).await
    } else {
        // Client SigV4 is verified, then removed: the DeltaLayer rewrites requests.
        let keys = settings
            .credentials
            .iter()
            .fold(StaticCredentials::new(), |keys, (access, secret)| {
                keys.with(access.clone(), secret.clone())
            });
        let auth = SigV4Config::new(keys).allow_anonymous(settings.allow_anonymous);
        let service = ServiceBuilder::new()
            .map_result(answer_internal_failure)
            .layer(admin)
            .layer(SigV4Layer::new(auth))
            .map_request(|r: Request<SigV4Body<Incoming>>| r.map(boxed))
            .service(core);
        server::serve(listener, service, server::shutdown_signal()).await
    }
    .map_err(|e| e.to_string())
}

/// `--raw`: the backend as it is, stored layout and all (signatures not checked).
async fn serve_raw<S, RB>(listener: TcpListener, backend: S) -> Result<(), String>
where
    S: Service<Request<Either<ClientBody>>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    tracing::info!("serving the stored layout raw");
    let service = ServiceBuilder::new()
        .map_request(|r: Request<Incoming>| {
            strip_authorization(r).map(|b| Either::passthrough(boxed(b)))
        })
        .service(backend);
    server::serve(listener, service, server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Anonymous mode: signatures are not checked, and not forwarded either (the layer rewrites
/// requests, so they would not match).
fn strip_authorization<B>(mut request: Request<B>) -> Request<B> {
    request.headers_mut().remove(http::header::AUTHORIZATION);
    request
}

fn boxed<B>(body: B) -> ClientBody
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// The guard's bodies: bytes it built, or the backend's own.
fn guard_body(body: Either<s3s::Body>) -> s3s::Body {
    match body.into_contents() {
        Contents::Full(bytes) => s3s::Body::from(bytes),
        Contents::Passthrough(body) => body,
        Contents::Streamed(body) => s3s::Body::http_body_unsync(body),
    }
}

/// s3s answers S3 errors as responses; its `HttpError` reports only internal failures.
/// They become a 500 `InternalError` response, never a dropped connection.
fn answer_internal_failure<B, E: std::fmt::Debug>(
    result: Result<http::Response<Either<B>>, E>,
) -> Result<http::Response<Either<B>>, E> {
    Ok(result.unwrap_or_else(|e| {
        tracing::error!(error = ?e, "backend failure");
        deltaglider::S3Error::internal("the backend failed")
            .to_response()
            .map(Either::full)
    }))
}
