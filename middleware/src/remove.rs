//! DeleteObject: removes whichever stored form of the key exists.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, request::Parts};
use http_body::Body;
use tower_service::Service;

use crate::body::{BoxError, Either, RequestBody, ResponseBody};
use crate::error::S3Error;
use crate::inner::{Inner, Stop, pass_error};
use crate::keys;

/// Handles DeleteObject. References are left in place (removing an unused one needs a
/// listing of its deltaspace, which is not implemented yet); they cost space, never data.
pub(crate) async fn delete<S, B, RB>(
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    parts: Parts,
    body: B,
) -> Result<Response<ResponseBody<RB>>, Stop<S::Error, RB>>
where
    S: Service<Request<RequestBody<B>>, Response = Response<RB>> + Clone,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    keys::check_user_key(key)
        .map_err(|e| S3Error::invalid_argument(e.to_string()).resource(key))?;
    let request = inner.request(Method::DELETE, bucket, &keys::delta_key(key), "");
    let deleted = inner.fetch(request, Bytes::new(), 64 << 10).await?;
    if !(deleted.status.is_success() || deleted.status == StatusCode::NOT_FOUND) {
        return Err(pass_error(deleted));
    }
    let response = inner
        .send(Request::from_parts(parts, Either::passthrough(body)))
        .await
        .map_err(Stop::Inner)?;
    Ok(response.map(Either::passthrough))
}
