//! The response future of [`Ingest`](super::Ingest).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;

use super::body::Slot;
use crate::body::{Either, ResponseBody};
use crate::compat::BoxFuture;
use crate::s3::error::S3Error;

/// The future of [`Ingest`](super::Ingest)'s responses.
pub struct ResponseFuture<RB, E> {
    inner: BoxFuture<'static, Result<Response<ResponseBody<RB>>, E>>,
}

impl<RB, E> ResponseFuture<RB, E> {
    pub(crate) fn new(inner: BoxFuture<'static, Result<Response<ResponseBody<RB>>, E>>) -> Self {
        Self { inner }
    }
}

impl<RB, E> Future for ResponseFuture<RB, E> {
    type Output = Result<Response<ResponseBody<RB>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<RB, E> fmt::Debug for ResponseFuture<RB, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

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
