//! How [`Ingest`](super::Ingest) answers: a refused body's S3 error, or the inner
//! service's response unless the streamed body failed.

use http::Response;

use super::body::Slot;
use crate::body::{Either, ResponseBody};
use crate::s3::error::S3Error;

/// The S3 error as a response.
pub(crate) fn error_response<RB>(error: &S3Error) -> Response<ResponseBody<RB>> {
    tracing::debug!(
        code = error.code(),
        message = error.message(),
        "request body refused"
    );
    error.to_response().map(Either::full)
}

/// The inner service's answer to a streamed upload, unless its body failed: then the
/// body's S3 error, whatever the inner service made of the failed upload (a 500, a
/// transport error, a refusal for a short body).
pub(crate) fn settle<RB, E>(
    result: Result<Response<RB>, E>,
    slot: &Slot,
) -> Result<Response<ResponseBody<RB>>, E> {
    match slot.take() {
        Some(error) => Ok(error_response(&error)),
        None => result.map(|r| r.map(Either::passthrough)),
    }
}
