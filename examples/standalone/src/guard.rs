//! Keeps requests that a filesystem cannot store safely away from the embedded backend,
//! and makes up for what `s3s-fs` 0.14 does differently from S3.
//!
//! `s3s-fs` maps keys to paths: a key segment `..` would escape the bucket directory (and
//! the data directory), `.` and empty segments alias other keys, and control characters
//! make unportable file names. S3 itself accepts such keys; this backend cannot, so they
//! are refused with `400 InvalidArgument` — in the path and in `x-amz-copy-source`. The
//! listing parameters only name what to look for, never a file to create: there only the
//! path segments that could walk out of the bucket directory are refused. Keys whose files (or sidecar files) would be too long for the
//! filesystem are refused with `400 KeyTooLongError` before anything is written
//! ([`names`]). The guard sits directly in front of the backend, so requests the
//! DeltaLayer makes itself are checked too; [`FsAdmitLayer`] makes the same checks for
//! the keys a client request will be stored under, in front of the DeltaLayer, before any
//! body is read.
//!
//! Where `s3s-fs` differs from S3:
//! - a conditional create (`If-None-Match: *`) is not atomic there (two racing creates
//!   both succeed, the second overwriting the first — fatal for deltaspace references,
//!   which must never be overwritten), so creates are serialised here and checked against
//!   the disk;
//! - a GET or HEAD of a key that is a directory on disk (a "folder" such as `dir` for
//!   `dir/file`) answers 500 there, where S3 answers 404;
//! - a request into a bucket that does not exist creates it (PUT) or answers without a
//!   message; here it is `404 NoSuchBucket`;
//! - multipart uploads: unknown upload ids are `404 NoSuchUpload` here, not 403;
//!   ListMultipartUploads is answered from the disk ([`list_uploads`]); completions are
//!   checked as S3 checks them ([`complete`]); abandoned uploads are removed after a
//!   while ([`uploads::sweep`]).

mod admit;
mod checks;
mod complete;
mod list_uploads;
mod names;
pub(crate) mod uploads;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use deltaglider::{Either, S3Error};
use http::{Method, Request, Response};
use tower::{Layer, Service};

pub(crate) use admit::{FsAdmitLayer, FsHeadCheckLayer};
use checks::{Target, object_path, query_param, refuse};

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
        let reply = |e: S3Error| -> Self::Future {
            let response = e.to_response().map(Either::full);
            Box::pin(async move { Ok(response) })
        };
        if let Err(e) = names::check(&request) {
            tracing::warn!(uri = %request.uri(), message = e.message(), "refused");
            return reply(e);
        }
        let root = Arc::clone(&self.layer.root);
        let target = Target::of(request.uri());
        let method = request.method().clone();
        if let Some(target) = &target {
            if let Err(e) = refuse(&root, &method, request.uri(), target) {
                return reply(e);
            }
            if method == Method::GET
                && target.key.is_none()
                && query_param(request.uri(), "uploads").is_some()
            {
                let query = request.uri().query().unwrap_or("").to_owned();
                let bucket = target.bucket.clone();
                return Box::pin(async move {
                    Ok(list_uploads::respond(root, bucket, &query)
                        .await
                        .map(Either::full))
                });
            }
        }
        let file = object_path(&self.layer.root, request.uri());
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
}
