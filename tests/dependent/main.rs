//! A program outside the deltaglider workspace, built the way a user's would be: it depends
//! on `deltaglider` by path and on nothing else of the workspace, so it compiles whatever the
//! crates' own manifests name (a `[patch]` of the workspace does not reach it).
//! `scripts/test-dependent` copies it into a scratch project and runs it over the directory
//! a `deltaglider-proxy` stored objects in.
//!
//! Usage: `deltaglider-dependent DIR BUCKET (get|put KEY FILE)…`, steps in order, through a
//! `DeltaLayer` over s3s-fs in DIR:
//! - `get KEY FILE`: GET KEY must answer FILE's bytes;
//! - `put KEY FILE`: PUT FILE as KEY, then the same GET check.
//!
//! Exits non-zero at the first failure.

use bytes::Bytes;
use deltaglider::{Delta, DeltaConfig, DeltaLayer};
use http::{Method, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tower::{Layer, ServiceExt};

type Failure = Box<dyn std::error::Error + Send + Sync>;
type Store = Delta<s3s::service::S3Service>;

const USAGE: &str = "usage: deltaglider-dependent DIR BUCKET (get|put KEY FILE)...";

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, bucket, steps @ ..] = args.as_slice() else {
        return Err(USAGE.into());
    };
    if steps.is_empty() || steps.len() % 3 != 0 {
        return Err(USAGE.into());
    }
    let fs = s3s_fs::FileSystem::new(dir).map_err(|e| format!("s3s-fs over {dir}: {e:?}"))?;
    // What the proxy runs, minus signature checks: the same layer, defaults and backend.
    let store = DeltaLayer::new(DeltaConfig::default())
        .layer(s3s::service::S3ServiceBuilder::new(fs).build());
    for step in steps.chunks(3) {
        let [op, key, file] = step else {
            return Err(USAGE.into());
        };
        let path = format!("/{bucket}/{key}");
        let original = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        match op.as_str() {
            "put" => {
                let (status, body) = call(&store, Method::PUT, &path, original.clone()).await?;
                if status != StatusCode::OK {
                    return Err(answer("PUT", &path, status, &body).into());
                }
            }
            "get" => {}
            _ => return Err(USAGE.into()),
        }
        let (status, body) = call(&store, Method::GET, &path, Vec::new()).await?;
        if status != StatusCode::OK {
            return Err(answer("GET", &path, status, &body).into());
        }
        if body != original {
            return Err(format!(
                "GET {path}: {} bytes that differ from {file} ({} bytes)",
                body.len(),
                original.len()
            )
            .into());
        }
        println!("{op} {path}: {} bytes, identical to {file}", body.len());
    }
    Ok(())
}

/// One request through the layer, answered whole.
async fn call(
    store: &Store,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> Result<(StatusCode, Bytes), Failure> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "localhost")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(Bytes::from(body)))?;
    let response = store.clone().oneshot(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// A failed request, with the S3 error the layer answered.
fn answer(method: &str, path: &str, status: StatusCode, body: &[u8]) -> String {
    format!(
        "{method} {path}: {status}: {}",
        String::from_utf8_lossy(body)
    )
}
