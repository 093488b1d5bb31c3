//! The S3 requests the layer itself sends to the inner service.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use http_body::Body;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tower::ServiceExt;
use tower_service::Service;

use crate::body::{BoxError, Either, RequestBody, ResponseBody, collect_limited};
use crate::s3::error::S3Error;

/// Characters left as they are in a key path: RFC 3986 unreserved, and `/`.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The inner service as the handlers use it.
pub(crate) trait InnerS3<B, RB>:
    Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone
{
}

impl<T, B, RB> InnerS3<B, RB> for T where
    T: Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone
{
}

/// A body of bytes whose errors can be boxed: client and backend bodies alike.
pub(crate) trait ByteBody: Body<Data = Bytes, Error: Into<BoxError>> {}

impl<T: Body<Data = Bytes, Error: Into<BoxError>>> ByteBody for T {}

/// How a handler stops early: an inner transport error (returned to the caller as is) or
/// a response to send instead (an S3 error, or an inner error response passed through).
pub(crate) enum Stop<E, RB> {
    Inner(E),
    Reply(Box<Response<ResponseBody<RB>>>),
}

impl<E, RB> From<S3Error> for Stop<E, RB> {
    fn from(error: S3Error) -> Self {
        tracing::warn!(
            code = error.code(),
            message = error.message(),
            "request failed"
        );
        Stop::Reply(Box::new(error.to_response().map(Either::full)))
    }
}

/// An inner response with its body read into memory.
pub(crate) struct Fetched {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Fetched {
    /// A user-metadata value (`x-amz-meta-<name>`), if present and UTF-8.
    pub(crate) fn meta(&self, name: &str) -> Option<&str> {
        self.headers
            .get(format!("x-amz-meta-{name}"))
            .and_then(|v| v.to_str().ok())
    }
}

/// Sends requests to clones of the inner service, addressed like the client's request and
/// on its behalf: each carries the client request's extensions, so whatever is behind
/// sees the same identity (a [`Principal`](crate::sigv4::Principal), or none for an
/// anonymous client) on the layer's own reads and writes as on the request itself. A
/// backend signer that signs only requests with a principal then keeps an anonymous
/// client anonymous all the way: it can read a delta object only if it could read the
/// stored `.delta` and its reference itself.
#[derive(Clone)]
pub(crate) struct Inner<S> {
    service: S,
    authority: Option<http::uri::Authority>,
    scheme: Option<http::uri::Scheme>,
    host: Option<HeaderValue>,
    extensions: http::Extensions,
    clock: Option<std::sync::Arc<dyn crate::s3::time::Clock>>,
}

impl<S> Inner<S> {
    pub(crate) fn new(service: S, client: &http::request::Parts) -> Self {
        Self {
            service,
            authority: client.uri.authority().cloned(),
            scheme: client.uri.scheme().cloned(),
            host: client.headers.get(header::HOST).cloned(),
            extensions: client.extensions.clone(),
            clock: None,
        }
    }

    /// Dates what this request writes by `clock` (the layer's configured one).
    pub(crate) fn with_clock(
        mut self,
        clock: Option<std::sync::Arc<dyn crate::s3::time::Clock>>,
    ) -> Self {
        self.clock = clock;
        self
    }

    /// Now, in Unix microseconds, by the layer's clock.
    pub(crate) fn now_micros(&self) -> u64 {
        crate::s3::time::now_micros(self.clock.as_deref())
    }

    /// A request builder for `method /bucket/key?query`.
    pub(crate) fn request(
        &self,
        method: Method,
        bucket: &str,
        key: &str,
        query: &str,
    ) -> http::request::Builder {
        let mut path = object_path(bucket, key);
        if !query.is_empty() {
            path.push('?');
            path.push_str(query);
        }
        let mut uri = Uri::builder().path_and_query(path);
        if let (Some(scheme), Some(authority)) = (&self.scheme, &self.authority) {
            uri = uri.scheme(scheme.clone()).authority(authority.clone());
        }
        let mut builder = Request::builder()
            .method(method)
            .uri(uri.build().unwrap_or_default());
        if let Some(host) = &self.host {
            builder = builder.header(header::HOST, host.clone());
        }
        if let Some(extensions) = builder.extensions_mut() {
            extensions.extend(self.extensions.clone());
        }
        builder
    }
}

/// `/bucket/key` URL-encoded as a request path (and `x-amz-copy-source`) carries it.
/// No bucket at all: `/` (ListBuckets).
pub(crate) fn object_path(bucket: &str, key: &str) -> String {
    if bucket.is_empty() {
        return "/".to_owned();
    }
    format!("/{bucket}/{}", utf8_percent_encode(key, KEY))
}

impl<S> Inner<S> {
    /// Sends one request.
    pub(crate) async fn send<B, RB>(
        &self,
        request: Request<RequestBody<B>>,
    ) -> Result<Response<RB>, S::Error>
    where
        S: Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone,
    {
        self.service.clone().oneshot(request).await
    }

    /// Sends a request the layer built (no client body) and reads the response body,
    /// up to `limit` bytes.
    pub(crate) async fn fetch<B, RB>(
        &self,
        builder: http::request::Builder,
        body: Bytes,
        limit: u64,
    ) -> Result<Fetched, Stop<S::Error, RB>>
    where
        S: Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone,
        RB: Body<Data = Bytes>,
        RB::Error: Into<BoxError>,
    {
        let request = builder
            .header(header::CONTENT_LENGTH, body.len())
            .body(Either::full(body))
            .map_err(|e| S3Error::internal(format!("building an inner request: {e}")))?;
        let response = self.send(request).await.map_err(Stop::Inner)?;
        let (parts, body) = response.into_parts();
        let body = collect_limited(body, limit)
            .await
            .map_err(|e| S3Error::internal(format!("reading the backend's response: {e}")))?;
        Ok(Fetched {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

impl<S> Inner<S> {
    /// Sends `method` for one stored key and leaves the body unread (to stream it, or to
    /// read it by its length): the answer's head and body; `None` when the key does not
    /// exist; the backend's error passed on.
    pub(crate) async fn open<B, RB>(
        &self,
        method: Method,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(http::response::Parts, RB)>, Stop<S::Error, RB>>
    where
        S: InnerS3<B, RB>,
        RB: ByteBody,
    {
        let request = self
            .request(method, bucket, key, "")
            .header(header::CONTENT_LENGTH, 0)
            .body(Either::empty())
            .map_err(|e| S3Error::internal(format!("building an inner request: {e}")))?;
        let response = self.send(request).await.map_err(Stop::Inner)?;
        let (parts, body) = response.into_parts();
        if parts.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !parts.status.is_success() {
            let body = collect_limited(body, 64 << 10)
                .await
                .map_err(|e| S3Error::internal(format!("reading the backend's response: {e}")))?;
            return Err(pass_error(Fetched {
                status: parts.status,
                headers: parts.headers,
                body,
            }));
        }
        Ok(Some((parts, body)))
    }

    /// HEADs one stored key (the backend's answer, whatever its status).
    pub(crate) async fn head<B, RB>(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Fetched, Stop<S::Error, RB>>
    where
        S: InnerS3<B, RB>,
        RB: ByteBody,
    {
        let request = self.request(Method::HEAD, bucket, key, "");
        self.fetch(request, Bytes::new(), 64 << 10).await
    }

    /// Deletes one stored key; a missing key is not a failure. Returns the backend's error
    /// response, if any.
    pub(crate) async fn delete_stored<B, RB>(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<Fetched>, Stop<S::Error, RB>>
    where
        S: InnerS3<B, RB>,
        RB: ByteBody,
    {
        let request = self.request(Method::DELETE, bucket, key, "");
        let deleted = self.fetch(request, Bytes::new(), 64 << 10).await?;
        let gone = deleted.status.is_success() || deleted.status == StatusCode::NOT_FOUND;
        Ok((!gone).then_some(deleted))
    }

    /// [`delete_stored`](Self::delete_stored), passing a backend error to the client.
    pub(crate) async fn remove_stored<B, RB>(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(), Stop<S::Error, RB>>
    where
        S: InnerS3<B, RB>,
        RB: ByteBody,
    {
        match self.delete_stored(bucket, key).await? {
            Some(failed) => Err(pass_error(failed)),
            None => Ok(()),
        }
    }
}

/// Turns a failed inner response into the response the client gets: the backend's own
/// error, unchanged.
pub(crate) fn pass_error<E, RB>(fetched: Fetched) -> Stop<E, RB> {
    let mut response = Response::new(Either::full(fetched.body));
    *response.status_mut() = fetched.status;
    *response.headers_mut() = fetched.headers;
    Stop::Reply(Box::new(response))
}
