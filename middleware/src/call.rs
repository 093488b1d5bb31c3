//! One request's context, as every operation and reference step takes it: the layer's
//! shared state, the inner service, the bucket and the key — with the bounds on the inner
//! service and the bodies written once, here, as [`Backend`].
//!
//! An operation is `async fn op<T: Backend>(call: Call<'_, T>, …) -> Outcome<T>`; a step
//! about another key of the same bucket (a reference, a copy source) takes the call and
//! that key.

use std::marker::PhantomData;
use std::sync::Arc;

use http::{Request, Response};
use tower_service::Service;

use crate::body::{RequestBody, ResponseBody};
use crate::compat::MaybeSend;
use crate::inner::{ByteBody, Inner, InnerS3, Stop};
use crate::state::shared::Shared;

/// The types of one layered stack: the inner service, the request body it is sent and
/// the response body it answers with. Implemented by [`Bound`] for every service the
/// layer can wrap.
///
/// The bounds are what a streamed response needs: it owns a clone of the inner service
/// and outlives the call, on another thread where the platform has threads.
pub(crate) trait Backend: 'static {
    /// The client's request body type (sent inward, as [`RequestBody`]).
    type Body: ByteBody + MaybeSend + 'static;
    /// The inner service's response body type.
    type Reply: ByteBody + MaybeSend + 'static;
    /// The inner service.
    type Service: InnerS3<Self::Body, Self::Reply, Future: MaybeSend + 'static, Error: MaybeSend + 'static>
        + MaybeSend
        + Sync
        + 'static;
}

/// [`Backend`] of the service `S` taking `RequestBody<B>` and answering `Response<RB>`.
pub(crate) struct Bound<S, B, RB>(PhantomData<Marker<S, B, RB>>);

/// Names the types without owning values of them (so `Bound` is `Send` and `Sync`).
type Marker<S, B, RB> = fn() -> (S, B, RB);

impl<S, B, RB> Backend for Bound<S, B, RB>
where
    S: InnerS3<B, RB, Future: MaybeSend + 'static, Error: MaybeSend + 'static>
        + MaybeSend
        + Sync
        + 'static,
    B: ByteBody + MaybeSend + 'static,
    RB: ByteBody + MaybeSend + 'static,
{
    type Body = B;
    type Reply = RB;
    type Service = S;
}

/// The inner service's transport error.
pub(crate) type Failure<T> =
    <<T as Backend>::Service as Service<Request<RequestBody<<T as Backend>::Body>>>>::Error;

/// How a step of `T`'s stack stops early ([`Stop`]).
pub(crate) type Stopped<T> = Stop<Failure<T>, <T as Backend>::Reply>;

/// What an operation answers: the response, or how it stopped.
pub(crate) type Outcome<T> = Result<Response<ResponseBody<<T as Backend>::Reply>>, Stopped<T>>;

/// One request's context. Cheap to copy: it borrows everything.
pub(crate) struct Call<'a, T: Backend> {
    /// Configuration, caches, counters.
    pub(crate) shared: &'a Arc<Shared>,
    /// The inner service, addressed as the client's request was.
    pub(crate) inner: &'a Inner<T::Service>,
    /// The bucket of the request.
    pub(crate) bucket: &'a str,
    /// The user key of the request (empty for bucket operations).
    pub(crate) key: &'a str,
}

impl<T: Backend> Clone for Call<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Backend> Copy for Call<'_, T> {}

impl<'a, T: Backend> Call<'a, T> {
    /// The context of a request for `key` in `bucket`.
    pub(crate) fn new(
        shared: &'a Arc<Shared>,
        inner: &'a Inner<T::Service>,
        bucket: &'a str,
        key: &'a str,
    ) -> Self {
        Self {
            shared,
            inner,
            bucket,
            key,
        }
    }

    /// The same context for another key of the same bucket.
    pub(crate) fn on(self, key: &'a str) -> Self {
        Self { key, ..self }
    }

    /// The same context for a key of another bucket (a copy source).
    pub(crate) fn at(self, bucket: &'a str, key: &'a str) -> Self {
        Self {
            bucket,
            key,
            ..self
        }
    }
}
