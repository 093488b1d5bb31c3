//! A delta-storing S3 proxy in front of another S3 service: clients are verified with the
//! proxy's keys, requests go on re-addressed and signed with the upstream's keys.
//!
//! ```text
//! client → SigV4Layer → IngestLayer → DeltaLayer → re-address → SignLayer → hyper client
//!   → upstream S3
//! ```
//!
//! Run it in front of any S3 endpoint (here an s3s-fs server,
//! `cargo install s3s-fs --version =0.14.1 --features binary --locked`):
//!
//! ```sh
//! s3s-fs --host 127.0.0.1 --port 9100 --access-key up --secret-key up-secret /tmp/upstream &
//! DELTAGLIDER_ACCESS_KEY=demo DELTAGLIDER_SECRET_KEY=demo-secret \
//!   DELTAGLIDER_UPSTREAM=http://127.0.0.1:9100 \
//!   DELTAGLIDER_UPSTREAM_ACCESS_KEY=up DELTAGLIDER_UPSTREAM_SECRET_KEY=up-secret \
//!   DELTAGLIDER_UPSTREAM_REGION=us-east-1 DELTAGLIDER_LISTEN=127.0.0.1:9000 \
//!   cargo run -p deltaglider --example upstream
//! ```
//!
//! and point clients at `http://127.0.0.1:9000` with the `demo` keys. The upstream sees
//! the stored layout (`key.delta`, `deltaspace/reference.bin`); only the proxy's clients
//! see the original objects.
//!
//! The client's signature cannot travel on (the DeltaLayer rewrites requests), so the
//! [`SigV4Layer`] removes it after checking it and the [`SignLayer`] signs again: only
//! requests of verified clients ([`SignConfig::sign_anonymous`] changes that). The hyper
//! client's body type is left to inference: it is whatever the DeltaLayer sends.
//!
//! In a crate of your own this takes:
//!
//! ```toml
//! [dependencies]
//! deltaglider = { path = "…/middleware" }
//! hyper-util = { version = "0.1", features = ["tokio", "server-auto", "client-legacy", "http1", "service"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }
//! tower = { version = "0.5", features = ["util"] }   # ServiceBuilder::map_result, map_request
//! http = "1"
//! ```

use std::net::SocketAddr;

use deltaglider::sigv4::{SigV4Config, SigV4Layer, SignConfig, SignLayer, StaticCredentials};
use deltaglider::{DeltaConfig, DeltaLayer, Either, IngestLayer, S3Error};
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;

/// Headers about the client's connection, not the object: the upstream connection has its
/// own.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "proxy-connection",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let upstream: Uri = env("DELTAGLIDER_UPSTREAM")?.parse()?;
    let (Some(scheme), Some(authority)) = (upstream.scheme(), upstream.authority()) else {
        return Err("DELTAGLIDER_UPSTREAM: give http://host:port".into());
    };
    let (scheme, authority) = (scheme.clone(), authority.clone());
    let region =
        std::env::var("DELTAGLIDER_UPSTREAM_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
    let signing = SignConfig::new(
        env("DELTAGLIDER_UPSTREAM_ACCESS_KEY")?,
        env("DELTAGLIDER_UPSTREAM_SECRET_KEY")?,
        region,
    );
    let keys = StaticCredentials::new().with(
        env("DELTAGLIDER_ACCESS_KEY")?,
        env("DELTAGLIDER_SECRET_KEY")?,
    );
    let listen: SocketAddr = std::env::var("DELTAGLIDER_LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:9000".to_owned())
        .parse()?;

    // Plain HTTP; for HTTPS give the client a TLS connector (hyper-rustls).
    let client = Client::builder(TokioExecutor::new()).build_http();
    let service = ServiceBuilder::new()
        .layer(SigV4Layer::new(SigV4Config::new(keys)))
        .layer(IngestLayer::new())
        .layer(DeltaLayer::new(DeltaConfig::default()))
        // An unreachable upstream is answered 503, which clients retry.
        .map_result(unreachable_is_503)
        .map_request(move |request| readdress(request, &scheme, &authority))
        .layer(SignLayer::new(signing))
        .service(client);

    let listener = TcpListener::bind(listen).await?;
    println!("serving S3 on http://{listen}, stored at {upstream}");
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

/// The same request, sent to the upstream (path style: the bucket is the first segment).
fn readdress<B>(mut request: Request<B>, scheme: &Scheme, authority: &Authority) -> Request<B> {
    let mut parts = request.uri().clone().into_parts();
    parts.scheme = Some(scheme.clone());
    parts.authority = Some(authority.clone());
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    let headers = request.headers_mut();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
        headers.insert(header::HOST, host);
    }
    *request.version_mut() = http::Version::HTTP_11;
    request
}

fn unreachable_is_503<B>(
    result: Result<http::Response<Either<B>>, hyper_util::client::legacy::Error>,
) -> Result<http::Response<Either<B>>, hyper_util::client::legacy::Error> {
    Ok(result.unwrap_or_else(|e| {
        eprintln!("upstream request failed: {e}");
        S3Error::new(
            "ServiceUnavailable",
            StatusCode::SERVICE_UNAVAILABLE,
            "The storage backend could not be reached; please retry.",
        )
        .to_response()
        .map(Either::full)
    }))
}
