//! ListObjectVersions, which the layer forwards rather than merges, with its own objects
//! left out: the savings ledger
//! (`.deltaglider/`) is the layer's, like references, and no client lists it.

use http::{Response, header};

use crate::body::Either;
use crate::call::{Backend, Call, Outcome};
use crate::inner::pass_error;
use crate::s3::hide::hide_entries;
use crate::stored::keys::LEDGER_PREFIX;

/// Whether a bucket GET with `query` is forwarded as a listing (and so rewritten here).
pub(crate) fn is_forwarded_listing(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| matches!(pair.split('=').next(), Some("versions" | "allow-unordered")))
}

/// The backend's answer to the listing `query` of the call's bucket, without the ledger.
pub(crate) async fn listing<T: Backend>(call: Call<'_, T>, query: &str) -> Outcome<T> {
    let Call { inner, bucket, .. } = call;
    let request = inner.request(http::Method::GET, bucket, "", query);
    let fetched = inner.fetch(request, bytes::Bytes::new(), 64 << 20).await?;
    if !fetched.status.is_success() {
        return Err(pass_error(fetched));
    }
    let body = match std::str::from_utf8(&fetched.body) {
        Ok(xml) => bytes::Bytes::from(hide_entries(xml, LEDGER_PREFIX)),
        Err(_) => fetched.body,
    };
    let mut response = Response::new(Either::full(body));
    *response.status_mut() = fetched.status;
    *response.headers_mut() = fetched.headers;
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response.headers_mut().remove(header::TRANSFER_ENCODING);
    Ok(response)
}
