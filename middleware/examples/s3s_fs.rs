//! An S3 server that stores similar objects as deltas: s3s over a directory (s3s-fs),
//! behind client signature verification, body ingest and the DeltaLayer.
//!
//! ```text
//! client → SigV4Layer → IngestLayer → DeltaLayer → s3s (s3s-fs, authentication off)
//! ```
//!
//! Run it (the keys are the ones clients sign with):
//!
//! ```sh
//! DELTAGLIDER_ACCESS_KEY=demo DELTAGLIDER_SECRET_KEY=demo-secret \
//!   DELTAGLIDER_DIR=/tmp/deltaglider DELTAGLIDER_LISTEN=127.0.0.1:9000 \
//!   cargo run -p deltaglider --example s3s_fs
//! ```
//!
//! then, in another shell:
//!
//! ```sh
//! export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret AWS_DEFAULT_REGION=us-east-1
//! aws --endpoint-url http://127.0.0.1:9000 s3 mb s3://releases
//! aws --endpoint-url http://127.0.0.1:9000 s3 cp app-1.0.zip s3://releases/app/
//! aws --endpoint-url http://127.0.0.1:9000 s3 cp app-1.1.zip s3://releases/app/
//! ls /tmp/deltaglider/releases/app/   # app-1.1.zip.delta: stored as a delta
//! ```
//!
//! Why s3s runs without an authentication provider: the [`SigV4Layer`] verifies each
//! client and removes its signature before the request goes inward, because the layers
//! behind rewrite requests (a PUT becomes a `.delta`) and the client's signature would no
//! longer fit. Served to signed clients *without* a `SigV4Layer` in front, s3s without a
//! provider answers `NotImplemented: This service has no authentication provider`; with
//! one (`S3ServiceBuilder::set_auth`) it would reject every rewritten request instead.
//!
//! In a crate of your own this takes (the versions this workspace builds with; s3s and
//! s3s-fs 0.14 are the newest for Rust 1.95):
//!
//! ```toml
//! [dependencies]
//! deltaglider = { path = "…/middleware" }
//! s3s = "=0.14.1"
//! s3s-fs = "=0.14.1"
//! hyper-util = { version = "0.1", features = ["tokio", "server-auto", "service"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }
//! tower = { version = "0.5", features = ["util"] }   # ServiceBuilder::map_result, map_request
//! http = "1"
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
use deltaglider::{DeltaConfig, DeltaLayer, Either, IngestLayer, S3Error};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let access_key = env("DELTAGLIDER_ACCESS_KEY")?;
    let secret_key = env("DELTAGLIDER_SECRET_KEY")?;
    let dir = PathBuf::from(env("DELTAGLIDER_DIR")?);
    let listen: SocketAddr = std::env::var("DELTAGLIDER_LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:9000".to_owned())
        .parse()?;

    std::fs::create_dir_all(&dir)?;
    let fs = s3s_fs::FileSystem::new(&dir).map_err(|e| format!("{e:?}"))?;
    let backend = s3s::service::S3ServiceBuilder::new(fs).build();

    let keys = StaticCredentials::new().with(access_key, secret_key);
    let service = ServiceBuilder::new()
        // s3s reports only internal failures as errors (S3 errors are responses already);
        // a server should answer them, not drop the connection.
        .map_result(answer_failures)
        .layer(SigV4Layer::new(SigV4Config::new(keys)))
        .layer(IngestLayer::new())
        .layer(DeltaLayer::new(DeltaConfig::default()))
        .service(backend);

    let listener = TcpListener::bind(listen).await?;
    println!(
        "serving S3 on http://{listen}, objects under {}",
        dir.display()
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = connection {
                eprintln!("connection: {e}");
            }
        });
    }
}

/// A required environment variable.
fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the example's docs)"))
}

/// An internal failure as a 500 `InternalError` response.
fn answer_failures<B, E: std::fmt::Debug>(
    result: Result<http::Response<Either<B>>, E>,
) -> Result<http::Response<Either<B>>, E> {
    Ok(result.unwrap_or_else(|e| {
        eprintln!("backend failure: {e:?}");
        S3Error::internal("the backend failed")
            .to_response()
            .map(Either::full)
    }))
}
