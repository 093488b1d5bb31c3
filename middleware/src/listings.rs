//! The backend's listings as the layer reads them for itself: a page at a time, retried on
//! server errors.

use bytes::Bytes;
use http::Method;

use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::s3::listing::{self, Page};
use crate::s3::query::query_value;

/// How often the layer's own listings are tried on server errors.
const LIST_ATTEMPTS: u32 = 4;

/// How deep a listing goes below its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Depth {
    /// One level (delimiter `/`): deeper keys come as common prefixes.
    OneLevel,
    /// Every key under the prefix.
    All,
}

/// One page of the backend's listing of `prefix` from `token`.
pub(crate) async fn page<T: Backend>(
    call: Call<'_, T>,
    prefix: &str,
    depth: Depth,
    token: Option<&str>,
) -> Result<Page, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let delimiter = match depth {
        Depth::OneLevel => "&delimiter=%2F",
        Depth::All => "",
    };
    let mut query = format!("list-type=2{delimiter}&prefix={}", query_value(prefix));
    if let Some(t) = token {
        query.push_str("&continuation-token=");
        query.push_str(&query_value(t));
    }
    // A listing is idempotent: a server error is retried a few times before the request
    // it serves fails (some backends fail a listing that meets a concurrent delete).
    let mut attempt = 0;
    loop {
        attempt += 1;
        let page = inner
            .fetch(
                inner.request(Method::GET, bucket, "", &query),
                Bytes::new(),
                64 << 20,
            )
            .await?;
        if page.status.is_success() {
            return Ok(listing::parse(&page.body)?);
        }
        if !page.status.is_server_error() || attempt == LIST_ATTEMPTS {
            return Err(pass_error(page));
        }
        tracing::debug!(
            bucket,
            prefix,
            status = page.status.as_u16(),
            "listing failed; retrying"
        );
    }
}
