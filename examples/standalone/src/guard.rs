//! Keeps requests that a filesystem cannot store safely away from the embedded backend.
//!
//! `s3s-fs` maps keys to paths: a key segment `..` would escape the bucket directory (and
//! the data directory), `.` and empty segments alias other keys, and control characters
//! make unportable file names. S3 itself accepts such keys; this backend cannot, so they
//! are refused with `400 InvalidArgument` — in the path, in `x-amz-copy-source`, and in the
//! listing parameters. The guard sits directly in front of the backend, so requests the
//! DeltaLayer makes itself are checked too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use deltaglider::{Either, S3Error};
use http::{Request, Response};
use percent_encoding::percent_decode_str;
use tower::{Layer, Service};

/// Why a name cannot be stored on a filesystem, if it cannot.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_control) {
        return Some("control characters");
    }
    if name
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Some("`.` or `..` path segments");
    }
    None
}

/// Checks a request for names the filesystem backend cannot hold.
fn check<B>(request: &Request<B>) -> Result<(), S3Error> {
    let refuse = |what: &str, why: &str| {
        Err(S3Error::invalid_argument(format!(
            "{what} with {why} cannot be stored by the filesystem backend"
        )))
    };
    let path = percent_decode_str(request.uri().path()).decode_utf8_lossy();
    let key = path.trim_start_matches('/').split_once('/').map(|(_, k)| k);
    if let Some(key) = key {
        if let Some(why) = unsafe_name(key) {
            return refuse("an object key", why);
        }
        if key.contains("//") || key.starts_with('/') {
            return refuse("an object key", "empty path segments");
        }
    }
    if let Some(source) = request
        .headers()
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
    {
        let source = percent_decode_str(source).decode_utf8_lossy();
        if let Some(why) = unsafe_name(&source) {
            return refuse("a copy source", why);
        }
    }
    for pair in request.uri().query().unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if matches!(name, "prefix" | "start-after" | "marker" | "delimiter") {
            let value = percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            if let Some(why) = unsafe_name(&value) {
                return refuse("a listing parameter", why);
            }
        }
    }
    Ok(())
}

/// Adds [`FsGuard`] in front of a service.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FsGuardLayer;

impl<S> Layer<S> for FsGuardLayer {
    type Service = FsGuard<S>;

    fn layer(&self, inner: S) -> FsGuard<S> {
        FsGuard { inner }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct FsGuard<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<Request<B>> for FsGuard<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
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
        if let Err(e) = check(&request) {
            tracing::warn!(uri = %request.uri(), message = e.message(), "refused");
            let response = e.to_response().map(Either::full);
            return Box::pin(async move { Ok(response) });
        }
        let call = self.inner.call(request);
        Box::pin(async move { call.await.map(|r| r.map(Either::passthrough)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, copy: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(c) = copy {
            b = b.header("x-amz-copy-source", c);
        }
        b.body(()).expect("request")
    }

    #[test]
    fn refuses_what_a_filesystem_cannot_hold() {
        for uri in [
            "/b/a/../../x.zip",
            "/b/a/..%2F..%2Fx.zip",
            "/b/%2E%2E/x",
            "/b/a//b.zip",
            "/b/./x",
            "/b/ctl%01.zip",
            "/b?prefix=..%2F",
            "/b?list-type=2&start-after=a%2F..%2F..",
        ] {
            assert!(check(&req(uri, None)).is_err(), "{uri}");
        }
        assert!(check(&req("/b/k", Some("/b/../../etc/passwd"))).is_err());
        for uri in [
            "/b/a/b.zip",
            "/b/a..b/c",
            "/b/...",
            "/b?prefix=a%2F&delimiter=%2F",
            "/",
            "/b",
        ] {
            assert!(check(&req(uri, None)).is_ok(), "{uri}");
        }
    }
}
