//! The response future of the crate's services ([`Delta`](crate::Delta),
//! [`Ingest`](crate::Ingest), [`SigV4`](crate::sigv4::SigV4)): each answers from one boxed
//! future of its own work.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;

use crate::body::ResponseBody;
use crate::compat::BoxFuture;

/// The future of the crate's services' responses: a boxed future, `Send` where the
/// platform has threads.
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
