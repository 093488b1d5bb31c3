//! Listing a deltaspace: the backend's pages one level deep, and its references.

use crate::call::{Backend, Call, Stopped};
use crate::listings::{self, Depth};
use crate::s3::listing::Page;
use crate::stored::keys;

/// One page of the backend's listing of `prefix`, one level deep (delimiter `/`).
pub(crate) async fn list_page<T: Backend>(
    call: Call<'_, T>,
    prefix: &str,
    token: Option<&str>,
) -> Result<Page, Stopped<T>> {
    listings::page(call, prefix, Depth::OneLevel, token).await
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
