//! An axum application with its own routes beside a delta-storing S3 service.
//!
//! The app's routes come first; everything else falls through to S3
//! (`Router::fallback_service`). Wrapping the whole `Router` in the layers instead would
//! hand `GET /healthz` to S3, which reads it as a listing of the bucket `healthz`.
//!
//! ```text
//! GET /healthz → axum handler
//! anything else → SigV4Layer → IngestLayer → DeltaLayer → s3s (s3s-fs)
//! ```
//!
//! Run it:
//!
//! ```sh
//! DELTAGLIDER_ACCESS_KEY=demo DELTAGLIDER_SECRET_KEY=demo-secret \
//!   DELTAGLIDER_DIR=/tmp/deltaglider DELTAGLIDER_LISTEN=127.0.0.1:9000 \
//!   cargo run -p deltaglider --example axum
//! curl http://127.0.0.1:9000/healthz
//! ```
//!
//! and point S3 clients at `http://127.0.0.1:9000` with the `demo` keys. Paths the app
//! takes are not bucket names any more: keep them out of the way of your buckets' names.
//!
//! A fallback service must never fail (`Error = Infallible`): s3s's internal failures are
//! turned into 500 responses by `HandleErrorLayer` first.
//!
//! In a crate of your own this takes:
//!
//! ```toml
//! [dependencies]
//! deltaglider = { path = "…/middleware" }
//! axum = "0.8"
//! s3s = "=0.14.1"
//! s3s-fs = "=0.14.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }
//! tower = { version = "0.5", features = ["util"] }   # ServiceBuilder::map_result, map_request
//! http = "1"
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::response::IntoResponse;
use axum::routing::get;
use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{DeltaConfig, DeltaLayer, IngestLayer, S3Error};
use tokio::net::TcpListener;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = StaticCredentials::new().with(
        env("DELTAGLIDER_ACCESS_KEY")?,
        env("DELTAGLIDER_SECRET_KEY")?,
    );
    let dir = PathBuf::from(env("DELTAGLIDER_DIR")?);
    let listen: SocketAddr = std::env::var("DELTAGLIDER_LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:9000".to_owned())
        .parse()?;

    std::fs::create_dir_all(&dir)?;
    let fs = s3s_fs::FileSystem::new(&dir).map_err(|e| format!("{e:?}"))?;
    let backend = s3s::service::S3ServiceBuilder::new(fs).build();
    let s3 = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(internal_failure))
        .layer(SigV4Layer::new(SigV4Config::new(keys)))
        .layer(IngestLayer::new())
        .layer(DeltaLayer::new(DeltaConfig::default()))
        .service(backend);

    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback_service(s3);

    let listener = TcpListener::bind(listen).await?;
    println!(
        "serving S3 and /healthz on http://{listen}, objects under {}",
        dir.display()
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// A required environment variable.
fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the example's docs)"))
}

/// s3s answers S3 errors as responses; what it reports as an error is an internal failure.
async fn internal_failure(error: s3s::HttpError) -> impl IntoResponse {
    eprintln!("backend failure: {error:?}");
    S3Error::internal("the backend failed")
        .to_response()
        .map(axum::body::Body::from)
}
