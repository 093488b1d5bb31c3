//! [`R2Service`]: the S3 calls the layer (and what it forwards) makes, answered over the
//! R2 bucket binding.

mod bucket;
mod list;
mod multipart;
mod object;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use deltaglider::{BoxError, Either, S3Error};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use tower_service::Service;
use worker::Bucket;
use worker::send::SendWrapper;

use crate::body::R2Body;
use crate::route::{Call, Routed};

/// An S3 service over one R2 bucket binding, answering in S3's wire format.
///
/// It serves the bucket name it was given; requests naming another bucket get
/// `NoSuchBucket`. Failures of R2 become S3 XML error responses, so the service itself
/// never fails.
#[derive(Debug, Clone)]
pub struct R2Service {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    // The binding is a JavaScript object; a Worker isolate runs one thread, and the layer
    // requires `Sync` services.
    bucket: SendWrapper<Bucket>,
    name: String,
    region: Option<String>,
}

impl R2Service {
    /// Serves `bucket` under the S3 bucket name `name`; `region` is what
    /// GetBucketLocation reports (none: `us-east-1`).
    pub fn new(bucket: Bucket, name: impl Into<String>, region: Option<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                bucket: SendWrapper::new(bucket),
                name: name.into(),
                region,
            }),
        }
    }

    fn bucket(&self) -> &Bucket {
        &self.shared.bucket
    }

    async fn handle<B>(&self, request: Request<Either<B>>) -> Result<Response<R2Body>, S3Error>
    where
        B: Body<Data = Bytes> + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let routed = Routed::from_parts(&parts);
        if let Some(bucket) = &routed.bucket
            && *bucket != self.shared.name
        {
            return Err(S3Error::new(
                "NoSuchBucket",
                StatusCode::NOT_FOUND,
                "The specified bucket does not exist",
            )
            .resource(bucket.clone()));
        }
        let key = routed.key.as_str();
        match routed.call {
            Call::ListBuckets => Ok(bucket::list_buckets(&self.shared.name)),
            Call::CreateBucket => Ok(bucket::create(&self.shared.name)),
            Call::HeadBucket => Ok(Response::new(R2Body::empty())),
            Call::DeleteBucket => Err(bucket::delete_refused(&self.shared.name)),
            Call::GetBucketLocation => Ok(xml(crate::xml::location(self.shared.region.as_deref()))),
            Call::ListMultipartUploads => Ok(xml(crate::xml::no_uploads(&self.shared.name))),
            Call::ListObjectsV2 => list::list_v2(self, parts.uri.query().unwrap_or("")).await,
            Call::DeleteObjects => list::delete_objects(self, body).await,
            Call::GetObject => object::get(self, key, &parts.headers).await,
            Call::HeadObject => object::head(self, key, &parts.headers).await,
            Call::PutObject => object::put(self, key, Request::from_parts(parts, body)).await,
            Call::CopyObject => object::copy(self, key, &parts.headers).await,
            Call::DeleteObject => object::delete(self, key).await,
            Call::CreateMultipartUpload => multipart::create(self, key, &parts.headers).await,
            Call::UploadPart => {
                multipart::upload_part(self, key, Request::from_parts(parts, body)).await
            }
            Call::UploadPartCopy => multipart::upload_part_copy(self, key, &parts).await,
            Call::CompleteMultipartUpload => multipart::complete(self, key, &parts, body).await,
            Call::AbortMultipartUpload => multipart::abort(self, key, &parts.uri).await,
            Call::ListParts => Err(S3Error::not_implemented(
                "ListParts: the R2 binding cannot list the parts of an upload",
            )),
            Call::Unsupported => Err(S3Error::not_implemented(format!(
                "{} {} is not supported by this endpoint",
                parts.method,
                parts.uri.path()
            ))),
        }
    }
}

impl<B> Service<Request<Either<B>>> for R2Service
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<R2Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R2Body>, Infallible>>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Either<B>>) -> Self::Future {
        let service = self.clone();
        let head = request.method() == Method::HEAD;
        Box::pin(async move {
            let response = match service.handle(request).await {
                Ok(response) => response,
                Err(error) => error_response(&error, head),
            };
            Ok(response)
        })
    }
}

/// An S3 error response; HEAD answers carry no body.
fn error_response(error: &S3Error, head: bool) -> Response<R2Body> {
    let (mut parts, body) = error.to_response().into_parts();
    if head {
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, R2Body::empty());
    }
    Response::from_parts(parts, R2Body::full(body))
}

/// A 200 response with an XML document.
fn xml(document: String) -> Response<R2Body> {
    let mut response = Response::new(R2Body::full(document));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// A header value from text the service builds (ETags, dates, numbers).
fn value(text: &str) -> Result<HeaderValue, S3Error> {
    HeaderValue::from_str(text)
        .map_err(|_| S3Error::internal(format!("{text:?} cannot be a header value")))
}
