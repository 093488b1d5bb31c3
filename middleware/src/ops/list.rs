//! ListObjectsV2 and ListObjects: user keys only, in user-key order, with original sizes
//! and ETags.
//!
//! - `params`: the request's parameters and the backend listing request they make.
//! - `merge`: backend pages of stored keys into a page of user keys.
//! - `order`: when a user key can no longer be preceded by a stored key still to come.
//! - `originals`: HEADs for what a listing cannot say (current form, original size).

mod merge;
mod order;
mod originals;
mod params;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, header, request::Parts};

use crate::body::Either;
use crate::call::{Backend, Call, Outcome};
use crate::inner::pass_error;
use crate::s3::listing;
use merge::{Entry, Merge};
use originals::{fill_originals, resolve_twins};
use params::Params;

/// Handles ListObjectsV2 (`v2`) and ListObjects.
pub(crate) async fn list<T: Backend>(call: Call<'_, T>, parts: Parts, v2: bool) -> Outcome<T> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let params = Params::parse(parts.uri.query().unwrap_or(""), v2)?;
    let mut merge = Merge::new(&params, params.resume()?);
    while merge.wants_page() {
        let (token, resume) = merge.position();
        let query = params.backend_query(shared.config.list_page_size, token, resume);
        let request = inner.request(Method::GET, bucket, "", &query);
        let fetched = inner.fetch(request, Bytes::new(), 64 << 20).await?;
        if !fetched.status.is_success() {
            return Err(pass_error(fetched));
        }
        merge.take(listing::parse(&fetched.body)?)?;
    }
    let (mut entries, last) = merge.finish();
    resolve_twins(call, &mut entries).await?;
    fill_originals(call, &mut entries).await?;
    let entries: Vec<_> = entries.into_iter().map(Entry::into_listing).collect();
    let next = last.map(|key| params.next(key));
    let body = listing::render(&params.echo(bucket), &entries, next.as_deref());
    let mut response = Response::new(Either::full(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    Ok(response)
}
