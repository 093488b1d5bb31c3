//! Keeps requests that a filesystem cannot store safely away from the embedded backend.
//!
//! `s3s-fs` maps keys to paths: a key segment `..` would escape the bucket directory (and
//! the data directory), `.` and empty segments alias other keys, and control characters
//! make unportable file names. S3 itself accepts such keys; this backend cannot, so they
//! are refused with `400 InvalidArgument` — in the path and in `x-amz-copy-source`. The
//! listing parameters only name what to look for, never a file to create: there only the
//! path segments that could walk out of the bucket directory are refused, and a prefix with
//! control characters simply matches nothing. The guard sits directly in front of the backend, so requests the
//! DeltaLayer makes itself are checked too.
//!
//! It also makes up for two ways `s3s-fs` 0.14 differs from S3: a conditional create
//! (`If-None-Match: *`) is not atomic there (two racing creates both succeed, the second
//! overwriting the first — fatal for deltaspace references, which must never be
//! overwritten), so creates are serialised here and checked against the disk; and a GET or
//! HEAD of a key that is a directory on disk (a "folder" such as `dir` for `dir/file`)
//! answers 500 there, where S3 answers 404.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
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
    unsafe_path(name)
}

/// Why a name cannot even be looked up as a path under the bucket directory, if it cannot.
fn unsafe_path(name: &str) -> Option<&'static str> {
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
            if let Some(why) = unsafe_path(&value) {
                return refuse("a listing parameter", why);
            }
        }
    }
    Ok(())
}

/// Adds [`FsGuard`] in front of the filesystem backend serving `root`.
#[derive(Debug, Clone)]
pub(crate) struct FsGuardLayer {
    root: Arc<PathBuf>,
    creates: Arc<tokio::sync::Mutex<()>>,
}

impl FsGuardLayer {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self {
            root: Arc::new(root),
            creates: Arc::default(),
        }
    }
}

impl<S> Layer<S> for FsGuardLayer {
    type Service = FsGuard<S>;

    fn layer(&self, inner: S) -> FsGuard<S> {
        FsGuard {
            inner,
            layer: self.clone(),
        }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct FsGuard<S> {
    inner: S,
    layer: FsGuardLayer,
}

/// The file a path-style object request names under `root`, if it names one.
fn object_path(root: &Path, uri: &http::Uri) -> Option<PathBuf> {
    let path = percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .into_owned();
    let (bucket, key) = path.trim_start_matches('/').split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| root.join(bucket).join(key))
}

/// The bucket directory an object file lies in (its first component below `root`).
fn bucket_dir(root: &Path, file: &Path) -> Option<PathBuf> {
    let relative = file.strip_prefix(root).ok()?;
    relative.components().next().map(|c| root.join(c))
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<Request<B>> for FsGuard<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
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
        let file = object_path(&self.layer.root, request.uri());
        let method = request.method().clone();
        // s3s-fs creates a missing bucket on PUT and answers NoSuchKey on GET; S3 says
        // NoSuchBucket to both.
        if let Some(bucket) = file
            .as_deref()
            .and_then(|f| bucket_dir(&self.layer.root, f))
            && !bucket.is_dir()
        {
            let name = bucket.file_name().map(|n| n.to_string_lossy().into_owned());
            let response = S3Error::new(
                "NoSuchBucket",
                http::StatusCode::NOT_FOUND,
                "The specified bucket does not exist",
            )
            .resource(name.unwrap_or_default())
            .to_response()
            .map(Either::full);
            return Box::pin(async move { Ok(response) });
        }
        if let Some(file) = &file
            && (method == http::Method::GET || method == http::Method::HEAD)
            && file.is_dir()
        {
            let key = request.uri().path().to_owned();
            let response = S3Error::no_such_key(&key).to_response().map(Either::full);
            return Box::pin(async move { Ok(response) });
        }
        let conditional_create = method == http::Method::PUT
            && request
                .headers()
                .get(http::header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == b"*");
        match (conditional_create, file) {
            (true, Some(file)) => {
                // Serialise creates: check-then-write is atomic within this process, which
                // is the only writer of its data directory.
                let creates = Arc::clone(&self.layer.creates);
                let mut inner = self.inner.clone();
                std::mem::swap(&mut inner, &mut self.inner);
                Box::pin(async move {
                    let _guard = creates.lock().await;
                    if file.exists() {
                        let refused = S3Error::new(
                            "PreconditionFailed",
                            http::StatusCode::PRECONDITION_FAILED,
                            "At least one of the pre-conditions you specified did not hold",
                        );
                        return Ok(refused.to_response().map(Either::full));
                    }
                    inner
                        .call(request)
                        .await
                        .map(|r| r.map(Either::passthrough))
                })
            }
            _ => {
                let call = self.inner.call(request);
                Box::pin(async move { call.await.map(|r| r.map(Either::passthrough)) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend that, like s3s-fs, checks and then writes with a gap in between.
    fn racy_backend(
        root: PathBuf,
    ) -> impl Service<
        Request<()>,
        Response = Response<String>,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static {
        tower::service_fn(move |request: Request<()>| {
            let file = object_path(&root, request.uri()).expect("object path");
            async move {
                let exists = file.exists();
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                if exists {
                    return Ok(Response::builder()
                        .status(412)
                        .body(String::new())
                        .expect("response"));
                }
                std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
                std::fs::write(&file, b"x").expect("write");
                Ok(Response::new(String::new()))
            }
        })
    }

    #[tokio::test]
    async fn racing_conditional_creates_yield_exactly_one_winner() {
        use tower::ServiceExt;
        let root = std::env::temp_dir().join(format!("dg-guard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("b")).expect("bucket");
        let guarded = FsGuardLayer::new(root.clone()).layer(racy_backend(root.clone()));
        let create = || {
            Request::builder()
                .method("PUT")
                .uri("/b/space/reference.bin")
                .header("if-none-match", "*")
                .body(())
                .expect("request")
        };
        let (a, b) = tokio::join!(
            guarded.clone().oneshot(create()),
            guarded.clone().oneshot(create())
        );
        let mut statuses = [
            a.expect("a").status().as_u16(),
            b.expect("b").status().as_u16(),
        ];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412]);
        // A directory is not an object.
        let head = Request::builder()
            .method("HEAD")
            .uri("/b/space")
            .body(())
            .expect("request");
        let response = guarded.clone().oneshot(head).await.expect("head");
        assert_eq!(response.status().as_u16(), 404);
        // An object in a bucket that does not exist: NoSuchBucket, and nothing is created.
        let put = Request::builder()
            .method("PUT")
            .uri("/nobucket/a.zip")
            .body(())
            .expect("request");
        let response = guarded.oneshot(put).await.expect("put");
        assert_eq!(response.status().as_u16(), 404);
        assert!(!root.join("nobucket").exists());
        let _ = std::fs::remove_dir_all(&root);
    }

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
            "/b?list-type=2&prefix=%0A&encoding-type=url",
            "/b?prefix=a%01b&marker=%0D",
            "/",
            "/b",
        ] {
            assert!(check(&req(uri, None)).is_ok(), "{uri}");
        }
    }
}
