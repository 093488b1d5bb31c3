//! Pieces of the service's answers: XML documents, header values, R2's times and error
//! responses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deltaglider::S3Error;
use http::{HeaderValue, Response, header};

use crate::body::R2Body;

/// What a handler answers: a response, or the S3 error to render.
pub(crate) type Answer = Result<Response<R2Body>, S3Error>;

/// An S3 error response; HEAD answers carry no body.
pub(crate) fn error_response(error: &S3Error, head: bool) -> Response<R2Body> {
    let (mut parts, body) = error.to_response().into_parts();
    if head {
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, R2Body::empty());
    }
    Response::from_parts(parts, R2Body::full(body))
}

/// A 200 response with an XML document.
pub(crate) fn xml(document: String) -> Response<R2Body> {
    let mut response = Response::new(R2Body::full(document));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// `NoSuchBucket` for a bucket other than the one served.
pub(crate) fn no_such_bucket(name: String) -> S3Error {
    S3Error::new(
        "NoSuchBucket",
        http::StatusCode::NOT_FOUND,
        "The specified bucket does not exist",
    )
    .resource(name)
}

/// A header value from text the service builds (ETags, dates, numbers).
pub(crate) fn value(text: &str) -> Result<HeaderValue, S3Error> {
    HeaderValue::from_str(text)
        .map_err(|_| S3Error::internal(format!("{text:?} cannot be a header value")))
}

/// An R2 time (an object's upload, an expiry) as a point in time.
pub(crate) fn instant(date: &worker::Date) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(date.as_millis())
}
