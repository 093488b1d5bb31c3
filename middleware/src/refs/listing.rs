//! Listing a deltaspace: the backend's pages one level deep, and its references.

use bytes::Bytes;
use http::Method;

use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::s3::listing::{self, Page};
use crate::s3::query::query_value;
use crate::stored::keys;

/// How often the layer's own listings are tried on server errors.
const LIST_ATTEMPTS: u32 = 4;

/// One page of the backend's listing of `prefix`, one level deep (delimiter `/`).
pub(crate) async fn list_page<T: Backend>(
    call: Call<'_, T>,
    prefix: &str,
    token: Option<&str>,
) -> Result<Page, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let mut query = format!("list-type=2&delimiter=%2F&prefix={}", query_value(prefix));
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

/// The references of deltaspace `space`, newest first.
pub(crate) async fn list_references<T: Backend>(
    call: Call<'_, T>,
    space: &str,
) -> Result<Vec<String>, Stopped<T>> {
    let sized = list_references_sized(call, space).await?;
    Ok(sized.into_iter().map(|(key, _)| key).collect())
}

/// The references of deltaspace `space` with their sizes, newest first.
pub(crate) async fn list_references_sized<T: Backend>(
    call: Call<'_, T>,
    space: &str,
) -> Result<Vec<(String, u64)>, Stopped<T>> {
    let mut found: Vec<(Option<String>, String, u64)> = Vec::new();
    let mut token: Option<String> = None;
    let prefix = format!("{space}reference.");
    loop {
        let page = list_page(call, &prefix, token.as_deref()).await?;
        found.extend(
            page.objects
                .into_iter()
                .filter(|o| keys::is_reference(&o.key) && keys::deltaspace(&o.key) == space)
                .map(|o| (o.last_modified, o.key, o.size)),
        );
        match (page.truncated, page.next_token) {
            (true, Some(t)) => token = Some(t),
            _ => break,
        }
    }
    // RFC 3339 times from one backend sort as text; ties go to the later name.
    found.sort_by(|a, b| b.cmp(a));
    Ok(found
        .into_iter()
        .map(|(_, key, size)| (key, size))
        .collect())
}
