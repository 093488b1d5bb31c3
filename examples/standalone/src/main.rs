//! `deltaglider-proxy`: an S3 endpoint that stores binary-similar objects as deltas.
//!
//! The stack, outermost first (see `main`):
//!
//! ```text
//! error completion → admin endpoints + timing → client SigV4 verification → metrics gate
//!   → body ingest (decoded, verified) → [filesystem admission] → DeltaLayer
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
mod cli;
mod config;
mod errors;
mod guard;
mod idle;
mod metrics;
mod server;
mod upstream;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use clap::Parser;
use deltaglider::ingest::IngestBody;
use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{BoxError, Contents, DeltaConfig, DeltaLayer, Either, IngestLayer};
use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder};
use tracing_subscriber::EnvFilter;

use crate::admin::{AdminLayer, Endpoints, MetricsGateLayer, Query, query_of};
use crate::config::{Args, LogFormat, Settings};
use crate::errors::CompleteErrorsLayer;
use crate::guard::{FsAdmitLayer, FsGuardLayer, FsHeadCheckLayer};
use crate::upstream::Upstream;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args
        .get(1)
        .is_some_and(|a| cli::COMMANDS.contains(&a.as_str()))
    {
        // Commands log only errors: their output is the report.
        tracing_subscriber::fmt()
            .with_env_filter(
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error")),
            )
            .with_writer(std::io::stderr)
            .with_ansi(colour(&std::io::stderr()))
            .init();
        return cli::main(args).await;
    }
    let settings = match Settings::resolve(Args::parse()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the server logs unless RUST_LOG says otherwise: `info`, without s3s's own
/// reports of the errors it answers. `s3s::ops` logs every S3 error it answers (a client's
/// `NoSuchKey` as much as a failure) at ERROR, twice when a request cannot be routed, and
/// `s3s::http::de` logs a malformed XML body, bytes and all, at ERROR: the proxy logs each
/// answered error itself, once (`errors.rs`). `s3s::service` still reports 5xx answers.
const DEFAULT_FILTER: &str = "info,s3s::ops=off,s3s::http::de=off";

/// The server's log lines, on stdout: text (coloured only on a terminal, and never with
/// NO_COLOR set) or JSON, filtered by RUST_LOG when it is set, else by [`DEFAULT_FILTER`].
fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(colour(&std::io::stdout())).init(),
        LogFormat::Json => builder.json().flatten_event(true).with_ansi(false).init(),
    }
}

/// Whether log lines written to `stream` may carry colour codes: only on a terminal, and
/// not when NO_COLOR is set to anything but the empty string (<https://no-color.org>).
fn colour(stream: &impl IsTerminal) -> bool {
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stream.is_terminal() && !no_colour
}

async fn run(settings: Settings) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let config = DeltaConfig::default()
        .max_delta_ratio(settings.max_delta_ratio)
        .cache_bytes(settings.cache_size_mb << 20)
        .references(settings.references)
        .gzip_payloads(settings.gzip_payloads)
        .max_object_size(settings.max_object_size_mb << 20)
        .max_large_object_size(settings.max_large_object_size_mb << 20)
        .large_window(
            (settings.large_chunk_mb << 20) as usize,
            settings.large_margin_mb << 20,
        )
        .max_payload_size(settings.max_payload_size_mb << 20)
        .rebuilt_cache_bytes(settings.rebuilt_cache_mb << 20)
        // Encoding runs on tokio's blocking pool, not on the threads serving requests.
        .offload(|job| {
            tokio::task::spawn_blocking(job);
        });
    let delta = DeltaLayer::new(config.clone());
    if let Some(upstream) = &settings.upstream {
        // Innermost first: the upstream client (re-addressing, re-signing), the DeltaLayer.
        // Anonymous clients stay anonymous upstream, unless no client is verified at all.
        let backend = Upstream::new(upstream, settings.credentials.is_empty() || settings.raw)?;
        tracing::info!(upstream = %backend.describe(), "backend: upstream S3 endpoint");
        if settings.raw {
            return serve_raw(listener, settings.limits, backend).await;
        }
        let core = ServiceBuilder::new()
            .map_response(|r: http::Response<Either<Either<Incoming>>>| r.map(Either::flatten))
            .layer(delta.clone())
            .service(backend);
        return serve(
            listener,
            &settings,
            delta,
            FsHeadCheckLayer::default(),
            core,
        )
        .await;
    }
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let backend = s3s_fs::FileSystem::new(&settings.data_dir)
        .map_err(|e| format!("cannot open {}: {e:?}", settings.data_dir.display()))?;
    // The proxy authenticates clients itself; the embedded backend runs without auth.
    let backend = s3s::service::S3ServiceBuilder::new(backend).build();
    tracing::info!(data_dir = %settings.data_dir.display(), "backend: embedded filesystem");
    if let Some(after) = settings.abort_incomplete_uploads_after {
        tokio::spawn(guard::uploads::sweep_periodically(
            settings.data_dir.clone(),
            after,
        ));
    }
    let guard = FsGuardLayer::new(settings.data_dir.clone());
    if settings.raw {
        return serve_raw(
            listener,
            settings.limits,
            ServiceBuilder::new().layer(guard).service(backend),
        )
        .await;
    }
    // Innermost first: the guard in front of the filesystem, the DeltaLayer in front of it,
    // the guard's checks of client requests in front of that.
    let admit = FsAdmitLayer::new(settings.data_dir.clone(), config);
    let head_check = FsHeadCheckLayer::new(admit.clone());
    let core = ServiceBuilder::new()
        .layer(admit)
        .layer(delta.clone())
        .map_response(|r: http::Response<Either<s3s::Body>>| r.map(guard_body))
        .layer(guard)
        .service(backend);
    serve(listener, &settings, delta, head_check, core).await
}

use crate::server::ClientBody;

/// Serves `core` (DeltaLayer over a backend) behind the admin endpoints, the client
/// signature check, the filesystem's head checks (`head_check`: before any body is read)
/// and the body ingest.
async fn serve<S, RB>(
    listener: TcpListener,
    settings: &Settings,
    delta: DeltaLayer,
    head_check: FsHeadCheckLayer,
    core: S,
) -> Result<(), String>
where
    S: Service<Request<ClientBody>, Response = http::Response<Either<RB>>> + Clone + Send + 'static,
    S::Error: std::fmt::Debug + Into<BoxError> + Send + 'static,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    let anonymous = settings.credentials.is_empty();
    let sigv4 = signature_check(settings);
    let refusals = {
        let sigv4 = sigv4.clone();
        Arc::new(move || sigv4.refusals())
    };
    let (admin, gate) = admin_layers(settings, delta, query_of(core.clone()), refusals);
    tracing::info!(
        listen = %server::describe(settings.listen),
        signatures = if anonymous { "not checked" } else { "verified" },
        unsigned_requests = if anonymous || settings.allow_anonymous { "allowed" } else { "refused" },
        "deltaglider-proxy serving"
    );
    if anonymous {
        tracing::info!(
            "no client credentials set: any keys work (AWS_ACCESS_KEY_ID=any \
             AWS_SECRET_ACCESS_KEY=any), and so does --no-sign-request; create a bucket \
             before uploading (aws --endpoint-url {} s3 mb s3://NAME)",
            server::describe(settings.listen)
        );
    }
    if anonymous {
        let service = ServiceBuilder::new()
            .layer(CompleteErrorsLayer)
            .map_result(answer_internal_failure)
            .layer(admin)
            .layer(gate)
            .layer(head_check)
            .map_request(strip_authorization::<server::RequestBody>)
            .map_response(|r: http::Response<Either<Either<RB>>>| r.map(Either::flatten))
            .layer(IngestLayer::new())
            .map_request(|r: Request<IngestBody<server::RequestBody>>| r.map(boxed))
            .service(core);
        server::serve(
            listener,
            settings.limits,
            service,
            server::shutdown_signal(),
        )
        .await
    } else {
        let service = ServiceBuilder::new()
            .layer(CompleteErrorsLayer)
            .map_result(answer_internal_failure)
            .layer(admin)
            .layer(sigv4)
            .layer(gate)
            .layer(head_check)
            .map_response(|r: http::Response<Either<Either<RB>>>| r.map(Either::flatten))
            .layer(IngestLayer::new())
            // A browser upload (POST Object) arrives as the PutObject it stands for.
            .map_request(|r: Request<IngestBody<Either<server::RequestBody>>>| r.map(boxed))
            .service(core);
        server::serve(
            listener,
            settings.limits,
            service,
            server::shutdown_signal(),
        )
        .await
    }
    .map_err(|e| e.to_string())
}

/// The client signature check (used when there are credentials). Signatures are verified,
/// then removed: the DeltaLayer rewrites requests.
fn signature_check(settings: &Settings) -> SigV4Layer {
    let keys = settings
        .credentials
        .iter()
        .fold(StaticCredentials::new(), |keys, (access, secret)| {
            keys.with(access.clone(), secret.clone())
        });
    SigV4Layer::new(SigV4Config::new(keys).allow_anonymous(settings.allow_anonymous))
}

/// The admin endpoints in front of everything, and the metrics gate behind the signature
/// check (a signed request may read metrics).
fn admin_layers(
    settings: &Settings,
    delta: DeltaLayer,
    query: Query,
    refusals: Arc<dyn Fn() -> Vec<(&'static str, u64)> + Send + Sync>,
) -> (AdminLayer, MetricsGateLayer) {
    let endpoints = Arc::new(Endpoints {
        delta,
        durations: Arc::default(),
        open: settings.credentials.is_empty() && settings.metrics_token.is_none(),
        token: settings.metrics_token.clone(),
        keys: settings.credentials.clone(),
        query,
        refusals,
        started: std::time::Instant::now(),
    });
    let admin = AdminLayer {
        endpoints: Arc::clone(&endpoints),
    };
    (admin, MetricsGateLayer { endpoints })
}

/// `--raw`: the backend as it is, stored layout and all (signatures not checked).
async fn serve_raw<S, RB>(
    listener: TcpListener,
    limits: server::Limits,
    backend: S,
) -> Result<(), String>
where
    S: Service<Request<Either<ClientBody>>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Error: Into<BoxError> + Send + 'static,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    tracing::info!("serving the stored layout raw");
    // Even raw, bodies are decoded and verified: the backend must never store framing.
    let service = ServiceBuilder::new()
        .map_request(strip_authorization::<server::RequestBody>)
        .layer(IngestLayer::new())
        .map_request(|r: Request<IngestBody<server::RequestBody>>| {
            r.map(|b| Either::passthrough(boxed(b)))
        })
        .service(backend);
    server::serve(listener, limits, service, server::shutdown_signal())
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
