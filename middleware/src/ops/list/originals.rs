//! What a backend listing cannot say, asked of the stored objects with HEADs: which of a
//! key's two stored forms is current, and a delta's original size and ETag.

use futures_util::StreamExt;
use http::StatusCode;

use super::merge::Entry;
use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, pass_error};
use crate::s3::error::S3Error;
use crate::s3::listing::Object;
use crate::stored::current::{self, Written};
use crate::stored::keys;
use crate::stored::meta::ObjectMeta;

/// HEAD requests in flight at once while filling in original sizes.
const HEAD_CONCURRENCY: usize = 16;

/// Delta entries whose key is also stored whole (a writer was interrupted between writing
/// one form and removing the other) become whichever form GET serves: the later written.
pub(super) async fn resolve_twins<T: Backend>(
    call: Call<'_, T>,
    entries: &mut [Entry],
) -> Result<(), Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    for entry in entries.iter_mut() {
        let Entry::Object(listed) = entry else {
            continue;
        };
        let Some(whole) = listed.whole_twin.take() else {
            continue;
        };
        let delta_head = inner
            .head(bucket, &keys::delta_key(&listed.object.key))
            .await?;
        let whole_head = inner.head(bucket, &listed.object.key).await?;
        let found = |f: &Fetched| match f.status {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            _ => Err(()),
        };
        let whole_current = match (found(&delta_head), found(&whole_head)) {
            (Ok(_), Ok(false)) => false,
            (Ok(false), Ok(true)) => true,
            (Ok(true), Ok(true)) => current::whole_wins(
                &Written::of(&delta_head.headers),
                &Written::of(&whole_head.headers),
            ),
            (Err(()), _) => return Err(pass_error(delta_head)),
            (_, Err(())) => return Err(pass_error(whole_head)),
        };
        if whole_current {
            listed.object = *whole;
            listed.delta = false;
        }
    }
    Ok(())
}

/// Replaces the stored size and ETag of delta entries with the original's.
pub(super) async fn fill_originals<T: Backend>(
    call: Call<'_, T>,
    entries: &mut Vec<Entry>,
) -> Result<(), Stopped<T>> {
    // Plain futures of a named `async fn`, collected first: a closure inside the stream
    // combinator would make the future's `Send`-ness depend on higher-ranked lifetimes.
    let lookups: Vec<_> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Entry::Object(o) if o.delta => Some(original_of(
                call,
                i,
                o.object.key.clone(),
                version_tag(&o.object),
            )),
            _ => None,
        })
        .collect();
    let results: Vec<_> = futures_util::stream::iter(lookups)
        .buffered(HEAD_CONCURRENCY)
        .collect()
        .await;
    let mut gone = Vec::new();
    for result in results {
        match result? {
            (i, Some((size, etag))) => {
                if let Entry::Object(o) = &mut entries[i] {
                    o.object.size = size;
                    o.object.etag = Some(etag);
                }
            }
            (i, None) => gone.push(i),
        }
    }
    // Entries deleted between the listing and the HEAD are gone: drop them.
    for i in gone.into_iter().rev() {
        entries.remove(i);
    }
    Ok(())
}

/// The original size and ETag of the delta entry `i` (user key `key`), or `None` when it
/// was deleted since the listing.
async fn original_of<T: Backend>(
    call: Call<'_, T>,
    i: usize,
    key: String,
    version: Option<String>,
) -> Result<(usize, Option<(u64, String)>), Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let stored_key = keys::delta_key(&key);
    if let Some(hit) = version
        .as_deref()
        .and_then(|v| shared.originals.get(bucket, &stored_key, v))
    {
        return Ok((i, Some(hit)));
    }
    let fetched = inner.head(bucket, &stored_key).await?;
    if fetched.status == StatusCode::NOT_FOUND {
        return Ok((i, None));
    }
    if !fetched.status.is_success() {
        return Err(pass_error(fetched));
    }
    let meta = ObjectMeta::parse(&stored_key, |n| fetched.meta(n))
        .map_err(|e| S3Error::internal(format!("{stored_key}: {e}")))?;
    let original = (meta.file_size.unwrap_or(0), meta.etag());
    if let Some(version) = &version {
        shared
            .originals
            .insert(bucket, &stored_key, version, original.clone());
    }
    Ok((i, Some(original)))
}

/// What identifies this version of a stored delta in a listing: its ETag, or, from
/// backends whose listings carry none, its modification time and size.
fn version_tag(object: &Object) -> Option<String> {
    match (&object.etag, &object.last_modified) {
        (Some(etag), _) => Some(etag.clone()),
        (None, Some(modified)) => Some(format!("{modified}/{}", object.size)),
        (None, None) => None,
    }
}
