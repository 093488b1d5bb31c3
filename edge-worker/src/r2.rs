//! [`R2Service`]: the S3 calls the layer (and what it forwards) makes, answered over the
//! R2 bucket binding.

mod binding;
mod bucket;
mod list;
mod multipart;
mod object;
mod reply;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use deltaglider::{BoxError, Either, S3Error};
use http::{Method, Request, Response};
use http_body::Body;
use tower_service::Service;

pub use binding::R2Service;
use reply::{error_response, no_such_bucket, xml};

use crate::body::R2Body;
use crate::route::{Call, Routed};

impl R2Service {
    /// Answers one request: its bucket must be the one served.
    async fn handle<B>(&self, request: Request<Either<B>>) -> Result<Response<R2Body>, S3Error>
    where
        B: Body<Data = Bytes> + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let routed = Routed::from_parts(&parts);
        if let Some(bucket) = &routed.bucket
            && bucket != self.name()
        {
            return Err(no_such_bucket(bucket.clone()));
        }
        let key = routed.key.as_str();
        match routed.call {
            Call::ListBuckets => Ok(bucket::list_buckets(self.name())),
            Call::CreateBucket => Ok(bucket::create(self.name())),
            Call::HeadBucket => Ok(Response::new(R2Body::empty())),
            Call::DeleteBucket => Err(bucket::delete_refused(self.name())),
            Call::GetBucketLocation => Ok(xml(crate::xml::location(self.region()))),
            Call::ListMultipartUploads => Ok(xml(crate::xml::no_uploads(self.name()))),
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
