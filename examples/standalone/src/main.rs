//! `deltaglider-proxy`: an S3 endpoint that stores binary-similar objects as deltas.
//!
//! The stack, outermost first (see `main`):
//!
//! ```text
//! admin endpoints + timing → client SigV4 verification → DeltaLayer → filesystem guard
//!   → s3s-fs (the embedded backend, authentication off: the proxy checked the client)
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

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{DeltaConfig, DeltaLayer, Either};
use tower::ServiceBuilder;
use tracing_subscriber::EnvFilter;

use crate::admin::AdminLayer;
use crate::config::{Args, Settings};
use crate::guard::FsGuardLayer;

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
    if let Some(upstream) = &settings.upstream {
        return Err(format!(
            "--upstream {} (region {}, {}) is not supported yet: this build serves the \
             embedded backend only",
            upstream.url,
            upstream.region,
            if upstream.credentials.is_some() {
                "signed"
            } else {
                "unsigned"
            },
        ));
    }
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let backend = s3s_fs::FileSystem::new(&settings.data_dir)
        .map_err(|e| format!("cannot open {}: {e:?}", settings.data_dir.display()))?;
    // The proxy authenticates clients itself; the embedded backend runs without auth.
    let backend = s3s::service::S3ServiceBuilder::new(backend).build();

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    if settings.raw {
        tracing::info!(listen = %server::describe(settings.listen), "serving the stored layout raw");
        let service = ServiceBuilder::new()
            .map_request(strip_authorization)
            .layer(FsGuardLayer::new(settings.data_dir.clone()))
            .service(backend);
        return server::serve(listener, service, server::shutdown_signal())
            .await
            .map_err(|e| e.to_string());
    }
    let delta = DeltaLayer::new(
        DeltaConfig::default()
            .max_delta_ratio(settings.max_delta_ratio)
            .cache_bytes(settings.cache_size_mb << 20),
    );
    let admin = AdminLayer {
        delta: delta.clone(),
        durations: Arc::default(),
    };
    // Innermost first: the guard in front of the filesystem, the DeltaLayer in front of it.
    let core = ServiceBuilder::new()
        .layer(delta)
        .map_response(|r: http::Response<Either<s3s::Body>>| r.map(flatten))
        .layer(FsGuardLayer::new(settings.data_dir.clone()))
        .service(backend);
    let anonymous = settings.credentials.is_none();
    tracing::info!(
        listen = %server::describe(settings.listen),
        data_dir = %settings.data_dir.display(),
        signatures = if anonymous { "not checked" } else { "verified" },
        unsigned_requests = if anonymous || settings.allow_anonymous { "allowed" } else { "refused" },
        "deltaglider-proxy serving"
    );
    match settings.credentials {
        // Client SigV4 is verified, then removed: the DeltaLayer rewrites requests.
        Some((access_key, secret_key)) => {
            let auth = SigV4Config::new(StaticCredentials::new().with(access_key, secret_key))
                .allow_anonymous(settings.allow_anonymous);
            let service = ServiceBuilder::new()
                .map_result(answer_internal_failure)
                .layer(admin)
                .layer(SigV4Layer::new(auth))
                .service(core);
            server::serve(listener, service, server::shutdown_signal()).await
        }
        None => {
            let service = ServiceBuilder::new()
                .map_result(answer_internal_failure)
                .layer(admin)
                .map_request(strip_authorization)
                .service(core);
            server::serve(listener, service, server::shutdown_signal()).await
        }
    }
    .map_err(|e| e.to_string())
}
/// Anonymous mode: signatures are not checked, and not forwarded either (the layer rewrites
/// requests, so they would not match).
fn strip_authorization(
    mut request: http::Request<hyper::body::Incoming>,
) -> http::Request<hyper::body::Incoming> {
    request.headers_mut().remove(http::header::AUTHORIZATION);
    request
}

/// The guard's body inside the layer's body: one level is enough.
fn flatten(body: Either<s3s::Body>) -> s3s::Body {
    match body.into_full() {
        Ok(bytes) => s3s::Body::from(bytes),
        Err(passthrough) => passthrough,
    }
}

/// s3s answers S3 errors as responses; its `HttpError` reports only internal failures.
/// They become a 500 `InternalError` response, never a dropped connection.
fn answer_internal_failure<B>(
    result: Result<http::Response<Either<B>>, s3s::HttpError>,
) -> Result<http::Response<Either<B>>, s3s::HttpError> {
    Ok(result.unwrap_or_else(|e| {
        tracing::error!(error = ?e, "backend failure");
        deltaglider::S3Error::internal("the backend failed")
            .to_response()
            .map(Either::full)
    }))
}
