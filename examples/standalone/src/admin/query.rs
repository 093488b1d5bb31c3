//! Requests the proxy makes of its own core service (the DeltaLayer over the backend), for
//! the figures the endpoints show.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use deltaglider::sigv4::Principal;
use deltaglider::{BoxError, Either};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Empty};
use tower::{Service, ServiceExt};

use crate::server::ClientBody;

/// Sends one body-less request to the core service and reads its answer.
pub(crate) type Query = Arc<
    dyn Fn(Asked) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, String>> + Send>>
        + Send
        + Sync,
>;

/// What a [`Query`] asks: method, path and query, and who asks.
pub(crate) struct Asked {
    method: Method,
    path_and_query: String,
    principal: Option<Principal>,
}

/// A body-less request for `path_and_query`, acting as `principal`.
pub(crate) fn request(method: Method, path_and_query: &str, principal: Option<Principal>) -> Asked {
    Asked {
        method,
        path_and_query: path_and_query.to_owned(),
        principal,
    }
}

/// The request an [`Asked`] stands for.
fn build(asked: Asked) -> Request<ClientBody> {
    let Asked {
        method,
        path_and_query,
        principal,
    } = asked;
    let mut request = Request::new(Empty::<Bytes>::new().map_err(BoxError::from).boxed_unsync());
    *request.method_mut() = method;
    *request.uri_mut() = path_and_query
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    request.headers_mut().insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from_static("0"),
    );
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    request
}

/// A [`Query`] over (clones of) `core`.
pub(crate) fn query_of<S, RB>(core: S) -> Query
where
    S: Service<Request<ClientBody>, Response = Response<Either<RB>>> + Clone + Send + 'static,
    S::Error: std::fmt::Debug + Send + 'static,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    // Services need not be `Sync`; clones are taken under a lock.
    let core = std::sync::Mutex::new(core);
    Arc::new(move |request| {
        let core = core
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let call = core.oneshot(build(request));
        Box::pin(read(call))
    })
}

/// The answer of `call`, its body read.
async fn read<F, E, RB>(call: F) -> Result<Response<Bytes>, String>
where
    F: Future<Output = Result<Response<Either<RB>>, E>>,
    E: std::fmt::Debug,
    RB: http_body::Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    let response = call.await.map_err(|e| format!("{e:?}"))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, body))
}
