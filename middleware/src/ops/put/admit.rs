//! What a write of an object passes before the layer stores anything, and the way a
//! write the layer leaves alone goes to the backend — shared by PutObject, CopyObject
//! and the multipart calls.

use http::{HeaderMap, Request, request::Parts};

use crate::body::{Either, RequestBody};
use crate::call::{Backend, Call, Outcome};
use crate::inner::Stop;
use crate::s3::error::S3Error;
use crate::stored::keys;
use crate::stored::meta;

/// Refuses a key the storage layout reserves and `x-amz-meta-*` names DeltaGlider's
/// metadata uses: either would let a client forge or shadow a stored form.
pub(crate) fn check(key: &str, client: &HeaderMap) -> Result<(), S3Error> {
    keys::check_user_key(key)?;
    meta::check_client_metadata(client)?;
    Ok(())
}

/// Sends the client's request to the backend untouched and passes its answer back.
pub(crate) async fn forward<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let response = call
        .inner
        .send(Request::from_parts(parts, body))
        .await
        .map_err(Stop::Inner)?;
    Ok(response.map(Either::passthrough))
}
