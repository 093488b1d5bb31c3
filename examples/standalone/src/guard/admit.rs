//! The guard's checks for client requests, in front of the DeltaLayer: what the
//! filesystem backend would refuse is refused before the layer stores anything (a
//! reference written, then the delta refused) and before the body is read (a client
//! that sent `Expect: 100-continue` is answered without uploading it).
//!
//! For a delta-eligible key the names checked are every name the layer may store it
//! under: the key itself (multipart completions assemble it there), `<key>.delta`, and
//! the longest reference name of its deltaspace.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use deltaglider::{BoxError, DeltaConfig, Either, S3Error, keys};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use tower::{Layer, Service};

use super::checks::{Target, query_param, refuse, writes};
use super::{complete, names, uploads};

/// The largest CompleteMultipartUpload document read (10,000 parts with checksums fit).
const MAX_COMPLETION_XML: usize = 4 << 20;

/// Adds [`FsAdmit`] in front of a DeltaLayer over the filesystem backend serving `root`.
#[derive(Clone)]
pub(crate) struct FsAdmitLayer {
    root: Arc<PathBuf>,
    config: DeltaConfig,
}

impl FsAdmitLayer {
    /// `config` is the DeltaLayer's: it says which keys are stored as deltas.
    pub(crate) fn new(root: PathBuf, config: DeltaConfig) -> Self {
        Self {
            root: Arc::new(root),
            config,
        }
    }
}

impl<S> Layer<S> for FsAdmitLayer {
    type Service = FsAdmit<S>;

    fn layer(&self, inner: S) -> FsAdmit<S> {
        FsAdmit {
            inner,
            layer: self.clone(),
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub(crate) struct FsAdmit<S> {
    inner: S,
    layer: FsAdmitLayer,
}

/// The longest reference name a deltaspace can have (`reference.<16 hex>.bin`).
fn longest_reference(key: &str) -> String {
    format!("{}reference.{}.bin", keys::deltaspace(key), "0".repeat(16))
}

impl FsAdmitLayer {
    fn admit(&self, method: &Method, uri: &http::Uri, target: &Target) -> Result<(), S3Error> {
        refuse(&self.root, method, uri, target)?;
        if let Some(key) = &target.key
            && writes(method, uri).is_some()
            && self.config.is_eligible(key)
        {
            names::check_fits(&target.bucket, &keys::delta_key(key), false)?;
            names::check_fits(&target.bucket, &longest_reference(key), false)
                .map_err(|e| e.resource(key.as_str()))?;
        }
        Ok(())
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<Request<B>> for FsAdmit<S>
where
    S: Service<Request<Either<B>>, Response = Response<Either<RB>>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    RB: Send + 'static,
{
    type Response = Response<Either<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let Some(target) = Target::of(request.uri()) else {
            return Box::pin(self.inner.call(request.map(Either::passthrough)));
        };
        if let Err(e) = self.layer.admit(request.method(), request.uri(), &target) {
            tracing::debug!(uri = %request.uri(), code = e.code(), "refused before the body");
            let response = e.to_response().map(Either::full);
            return Box::pin(async move { Ok(response) });
        }
        let completion = (request.method() == Method::POST && target.key.is_some())
            .then(|| query_param(request.uri(), "uploadId"))
            .flatten();
        let Some(id) = completion else {
            return Box::pin(self.inner.call(request.map(Either::passthrough)));
        };
        let root = Arc::clone(&self.layer.root);
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let document = match checked_completion(&root, &id, body).await {
                Ok(document) => document,
                Err(e) => return Ok(e.to_response().map(Either::full)),
            };
            // The document may have been rewritten: describe the one sent.
            let headers = &mut parts.headers;
            headers.remove(http::header::TRANSFER_ENCODING);
            headers.remove("content-md5");
            headers.insert(http::header::CONTENT_LENGTH, document.len().into());
            let response = inner
                .call(Request::from_parts(parts, Either::full(document)))
                .await;
            // Once the backend closed the upload, parts it did not join belong to nobody.
            let cleanup = tokio::task::spawn_blocking(move || {
                if !uploads::is_open(&root, &id) {
                    uploads::remove_parts(&root, &id, |_| false)?;
                }
                std::io::Result::Ok(())
            })
            .await;
            if let Ok(Err(e)) = cleanup {
                tracing::warn!(error = %e, "cannot remove the parts of a completed upload");
            }
            response
        })
    }
}

/// Reads and checks a CompleteMultipartUpload document for upload `id`: the document to
/// send the backend.
async fn checked_completion<B>(root: &Arc<PathBuf>, id: &str, body: B) -> Result<Bytes, S3Error>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let xml = match Limited::new(body, MAX_COMPLETION_XML).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(S3Error::new(
                "MalformedXML",
                StatusCode::BAD_REQUEST,
                format!("The parts list is longer than {MAX_COMPLETION_XML} bytes"),
            ));
        }
        Err(e) => {
            return Err(S3Error::new(
                "IncompleteBody",
                StatusCode::BAD_REQUEST,
                format!("The request body could not be read: {e}"),
            ));
        }
    };
    let listed = complete::parse(&xml)?;
    let (root, id) = (Arc::clone(root), id.to_owned());
    let renumbered = tokio::task::spawn_blocking(move || {
        let on_disk = uploads::parts(&root, &id)
            .map_err(|e| S3Error::internal(format!("listing parts: {e}")))?;
        complete::check(&listed, &on_disk, |part| uploads::part_etag(&part.path))?;
        complete::renumber(&root, &id, &listed)
            .map_err(|e| S3Error::internal(format!("renumbering parts: {e}")))
    })
    .await
    .map_err(|e| S3Error::internal(format!("checking parts: {e}")))??;
    Ok(renumbered.map_or(xml, Bytes::from))
}

/// [`FsAdmit`]'s checks of the request head alone, for the front of the stack (before the
/// body ingest reads small bodies): a client that sent `Expect: 100-continue` to a
/// missing bucket, or with a key the filesystem cannot hold, is answered before it uploads
/// anything. With no filesystem behind (upstream mode) it passes everything.
#[derive(Clone, Default)]
pub(crate) struct FsHeadCheckLayer {
    admit: Option<FsAdmitLayer>,
}

impl FsHeadCheckLayer {
    /// The head checks of `admit`'s filesystem backend.
    pub(crate) fn new(admit: FsAdmitLayer) -> Self {
        Self { admit: Some(admit) }
    }
}

impl<S> Layer<S> for FsHeadCheckLayer {
    type Service = FsHeadCheck<S>;

    fn layer(&self, inner: S) -> FsHeadCheck<S> {
        FsHeadCheck {
            inner,
            admit: self.admit.clone(),
        }
    }
}

/// See [`FsHeadCheckLayer`].
#[derive(Clone)]
pub(crate) struct FsHeadCheck<S> {
    inner: S,
    admit: Option<FsAdmitLayer>,
}

impl<S, B, RB> Service<Request<B>> for FsHeadCheck<S>
where
    S: Service<Request<B>, Response = Response<Either<RB>>> + Send + 'static,
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
        if let Some(admit) = &self.admit
            && let Some(target) = Target::of(request.uri())
            && let Err(e) = admit.admit(request.method(), request.uri(), &target)
        {
            tracing::debug!(uri = %request.uri(), code = e.code(), "refused before the body");
            let response = e.to_response().map(Either::full);
            return Box::pin(async move { Ok(response) });
        }
        Box::pin(self.inner.call(request))
    }
}
