//! Reconciliation: a bucket's figures counted afresh from a listing of everything stored
//! (a HEAD of each delta for its original size), written as a new summary.
//!
//! The summary holds the journal up to the scan's start: entries written after it are
//! added on top. A write that lands while the scan runs may be counted twice or not at
//! all (once by the listing, once by its entry); the next reconciliation corrects it.

use std::collections::HashSet;

use futures_util::StreamExt;
use http::StatusCode;

use super::figures::{Figures, Spaces};
use super::journal::PREFIX;
use super::summary::{self, Summary};
use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::stored::keys::{self, DELTA_SUFFIX};
use crate::stored::meta::ObjectMeta;

/// HEADs in flight at once.
const CONCURRENCY: usize = 16;

/// Counts the call's bucket afresh and writes the result as its latest summary (keeping
/// the history of the one it replaces).
pub(crate) async fn reconcile<T: Backend>(call: Call<'_, T>) -> Result<Summary, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let started = inner.now_micros();
    let mut objects = Vec::new();
    summary::list_each(call, "", |o| {
        if !o.key.starts_with(PREFIX) {
            objects.push((o.key, o.size));
        }
    })
    .await?;
    let (mut spaces, heads) = count(&objects);
    let sized = heads
        .into_iter()
        .map(|(key, size)| delta_figures(call, key, size));
    let sized: Vec<_> = futures_util::stream::iter(sized)
        .buffered(CONCURRENCY)
        .collect()
        .await;
    for one in sized {
        if let Some((key, figures)) = one? {
            spaces
                .entry(keys::deltaspace(&key).to_owned())
                .or_default()
                .add(&figures);
        }
    }
    let previous = summary::read(call).await.ok().flatten();
    let mut next = Summary {
        spaces,
        folded_through: started,
        reconciled_at: Some(started),
        updated_at: inner.now_micros(),
        history: previous
            .as_ref()
            .map(|l| l.now.history.clone())
            .unwrap_or_default(),
    };
    next.mark(next.updated_at);
    let stale = summary::list_all(call, ".deltaglider/stats/").await?;
    let (older, folded): (Vec<String>, Vec<String>) = stale
        .into_iter()
        .partition(|k| k.starts_with(summary::SUMMARY));
    let folded: Vec<String> = folded
        .into_iter()
        .filter(|k| super::journal::entry_time(k).is_some_and(|t| t <= started))
        .collect();
    if let Err(status) = summary::write_summary(call, &next, &older, &folded).await {
        tracing::warn!(
            bucket,
            status,
            "could not write the reconciled savings summary"
        );
    }
    tracing::info!(
        bucket,
        objects = objects.len(),
        deltaspaces = next.spaces.len(),
        "savings reconciled"
    );
    Ok(next)
}

/// The figures of the delta stored at `key` (`size` bytes); `None` if it is gone.
async fn delta_figures<T: Backend>(
    call: Call<'_, T>,
    key: String,
    size: u64,
) -> Result<Option<(String, Figures)>, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let head = inner.head(bucket, &key).await?;
    match head.status {
        StatusCode::NOT_FOUND => return Ok(None),
        s if s.is_success() => {}
        _ => return Err(pass_error(head)),
    }
    // Without a readable original size (damage, a foreign tool), its stored size.
    let original = ObjectMeta::parse(&key, |n| head.meta(n))
        .ok()
        .and_then(|m| m.file_size)
        .unwrap_or(size);
    Ok(Some((key, Figures::object(original, size, true))))
}

/// The figures of everything but deltas (references, whole objects), and the deltas to
/// HEAD for their original sizes.
fn count(objects: &[(String, u64)]) -> (Spaces, Vec<(String, u64)>) {
    let deltas: HashSet<&str> = objects
        .iter()
        .filter_map(|(k, _)| k.strip_suffix(DELTA_SUFFIX))
        .collect();
    let mut spaces = Spaces::new();
    let mut heads = Vec::new();
    for (key, size) in objects {
        let space = keys::deltaspace(key).to_owned();
        if keys::is_reference(key) {
            spaces
                .entry(space)
                .or_default()
                .add(&Figures::reference(*size));
        } else if key.ends_with(DELTA_SUFFIX) {
            heads.push((key.clone(), *size));
        } else if !deltas.contains(key.as_str()) {
            // Both forms of one key are one object: its delta (the form a write leaves
            // behind; the other goes right after).
            spaces
                .entry(space)
                .or_default()
                .add(&Figures::object(*size, *size, false));
        }
    }
    (spaces, heads)
}
