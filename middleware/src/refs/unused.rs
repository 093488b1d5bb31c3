//! Removing references no delta names any more — safely against concurrent uploads,
//! without locks (`docs/DESIGN.md`, "Reference lifecycle").
//!
//! After a delta is deleted, or replaced by a whole object or by a delta naming another
//! reference, its deltaspace is checked: with no delta left, every reference goes;
//! otherwise each reference (`reference.bin` included) that no remaining delta names (by
//! `dg-ref-key`), and that is not the base of a reference kept (a reference stored as a
//! delta names its base the same way), goes — references before their bases.
//!
//! The remover reads a reference into memory, deletes it, then checks again and restores
//! it if a delta naming it appeared meanwhile; an upload that wrote such a delta after that
//! second check finds the reference gone and restores it itself
//! (`create::ensure_after_write`). Either way no delta outlives its reference.

use std::collections::HashMap;

use http::StatusCode;

use super::create::create;
use super::listing::list_page;
use super::load::load;
use crate::call::{Backend, Call, Stopped};
use crate::inner::{Stop, pass_error};
use crate::ledger::change;
use crate::stored::keys;
use crate::stored::meta::ObjectMeta;

/// Content-named references are looked for only in deltaspaces of at most this many
/// deltas: finding the unused ones takes a HEAD of every delta, twice.
const MAX_DELTAS_CHECKED: usize = 500;

/// Called after a delta of deltaspace `space` was deleted or replaced: removes the
/// references no delta needs any more. Best effort: the client's request already
/// succeeded, and a reference left behind costs space, never data.
pub(crate) async fn remove_unused_references<T: Backend>(call: Call<'_, T>, space: &str) {
    let Call { bucket, .. } = call;
    match sweep(call, space).await {
        Ok(()) => {}
        Err(Stop::Reply(response)) => tracing::warn!(
            bucket,
            space,
            status = response.status().as_u16(),
            "could not remove unused references; they stay"
        ),
        Err(Stop::Inner(_)) => tracing::warn!(
            bucket,
            space,
            "backend unreachable while removing unused references"
        ),
    }
}

async fn sweep<T: Backend>(call: Call<'_, T>, space: &str) -> Result<(), Stopped<T>> {
    let listed = list_space(call, space).await?;
    if listed.references.is_empty()
        || listed.deltas.len() > MAX_DELTAS_CHECKED
        || listed.references.len() > MAX_DELTAS_CHECKED
    {
        return Ok(());
    }
    let Some(bases) = bases_of(call, &listed.references).await? else {
        return Ok(());
    };
    let mut kept = if listed.deltas.is_empty() {
        Vec::new()
    } else {
        match named_references(call, &listed.deltas, &listed.references).await? {
            Some(named) => named,
            None => return Ok(()),
        }
    };
    // A kept reference keeps its base, and that one its own, down the chain.
    let mut i = 0;
    while let Some(key) = kept.get(i) {
        if let Some(Some(base)) = bases.get(key)
            && !kept.contains(base)
        {
            kept.push(base.clone());
        }
        i += 1;
    }
    let mut unused: Vec<&String> = listed
        .references
        .iter()
        .filter(|r| !kept.contains(r))
        .collect();
    // References chained onto others go before their bases: a base is needed while one
    // stands.
    while !unused.is_empty() {
        let (now, later): (Vec<&String>, Vec<&String>) = unused.iter().partition(|r| {
            !unused
                .iter()
                .any(|other| bases.get(*other).is_some_and(|b| b.as_ref() == Some(**r)))
        });
        if now.is_empty() {
            // A cycle of bases can only be damage: left for a person to look at.
            break;
        }
        for ref_key in now {
            remove_one(call, space, ref_key, true).await?;
        }
        unused = later;
    }
    Ok(())
}

/// The base of each reference stored as a delta of another (`None` for whole ones); `None`
/// altogether when one of them cannot be told. References deleted since the listing have
/// none.
async fn bases_of<T: Backend>(
    call: Call<'_, T>,
    references: &[String],
) -> Result<Option<HashMap<String, Option<String>>>, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let mut bases = HashMap::with_capacity(references.len());
    for ref_key in references {
        let head = inner.head(bucket, ref_key).await?;
        match head.status {
            StatusCode::NOT_FOUND => continue,
            s if s.is_success() => {}
            _ => return Err(pass_error(head)),
        }
        let base = match ObjectMeta::parse(ref_key, |name| head.meta(name)) {
            Ok(meta) => meta.reference.map(|r| r.key),
            // Legacy and foreign references are whole; one that names a base must be read.
            Err(_) if head.meta("dg-ref-key").is_none() => None,
            Err(_) => return Ok(None),
        };
        bases.insert(ref_key.clone(), base);
    }
    Ok(Some(bases))
}

/// Withdraws reference `ref_key` that its writer just created but must not keep (the
/// deltaspace went over its cap meanwhile): removed like an unused one, restored if a delta
/// names it by now. Best effort, as [`remove_unused_references`].
pub(crate) async fn withdraw<T: Backend>(call: Call<'_, T>, ref_key: &str) {
    let Call { bucket, .. } = call;
    let space = keys::deltaspace(ref_key);
    if let Err(stop) = remove_one(call, space, ref_key, false).await {
        let status = match &stop {
            Stop::Reply(response) => Some(response.status().as_u16()),
            Stop::Inner(_) => None,
        };
        tracing::warn!(
            bucket,
            ref_key,
            ?status,
            "could not withdraw a reference; it stays"
        );
    }
}

/// Removes reference `ref_key`, then restores it if a delta needs it after all. `counted`:
/// the savings ledger counts it (a reference its writer withdraws was never counted).
async fn remove_one<T: Backend>(
    call: Call<'_, T>,
    space: &str,
    ref_key: &str,
    counted: bool,
) -> Result<(), Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let Some(reference) = load(call, ref_key, None).await? else {
        return Ok(());
    };
    // Its stored size, for the savings ledger (a chained one is smaller than its bytes).
    let head = inner.head(bucket, ref_key).await?;
    let stored = head
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    inner.remove_stored(bucket, ref_key).await?;
    // A check that fails (a transient backend error) counts as "needed": the reference is
    // put back rather than lost under a delta written meanwhile.
    let needed = is_needed(call, space, ref_key).await.unwrap_or(true);
    if needed {
        tracing::info!(
            bucket,
            ref_key,
            "a delta named the reference while it was being removed, or that could not be checked; restoring it"
        );
        let created = create(call, ref_key, ref_key, &reference.bytes, &reference.sha256).await?;
        if !(created.status.is_success()
            || matches!(
                created.status,
                StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT
            ))
        {
            return Err(pass_error(created));
        }
        return Ok(());
    }
    shared.cache.remove(bucket, ref_key);
    if let Some(stored) = stored.filter(|_| counted) {
        change::reference(call, ref_key, stored, false).await;
    }
    tracing::info!(bucket, ref_key, "removed an unused reference");
    Ok(())
}

/// Whether `space` (still) needs `ref_key`: a delta names it, or a reference is stored as
/// a delta of it — or what they name cannot be told, or there are too many to look: then
/// it is kept.
async fn is_needed<T: Backend>(
    call: Call<'_, T>,
    space: &str,
    ref_key: &str,
) -> Result<bool, Stopped<T>> {
    let listed = list_space(call, space).await?;
    if listed.deltas.len() > MAX_DELTAS_CHECKED || listed.references.len() > MAX_DELTAS_CHECKED {
        return Ok(true);
    }
    let others: Vec<String> = listed
        .references
        .into_iter()
        .filter(|r| r != ref_key)
        .collect();
    let chained_onto = bases_of(call, &others)
        .await?
        .is_none_or(|bases| bases.values().any(|base| base.as_deref() == Some(ref_key)));
    if chained_onto {
        return Ok(true);
    }
    if listed.deltas.is_empty() {
        return Ok(false);
    }
    let wanted = [ref_key.to_owned()];
    Ok(named_references(call, &listed.deltas, &wanted)
        .await?
        .is_none_or(|named| named.iter().any(|k| k == ref_key)))
}

/// The references the given deltas name (`dg-ref-key`), or `None` when one of them cannot
/// be read as a delta of ours or the Python CLI's (then nothing may be removed). Stops
/// looking once every reference of `wanted` is named: what matters is which are not.
async fn named_references<T: Backend>(
    call: Call<'_, T>,
    deltas: &[String],
    wanted: &[String],
) -> Result<Option<Vec<String>>, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let mut named: Vec<String> = Vec::new();
    for delta_key in deltas {
        if wanted.iter().all(|w| named.contains(w)) {
            break;
        }
        let head = inner.head(bucket, delta_key).await?;
        match head.status {
            // Deleted since the listing: it names nothing any more.
            StatusCode::NOT_FOUND => continue,
            s if s.is_success() => {}
            _ => return Err(pass_error(head)),
        }
        let Ok(meta) = ObjectMeta::parse(delta_key, |name| head.meta(name)) else {
            return Ok(None);
        };
        if let Some(reference) = meta.reference
            && !named.contains(&reference.key)
        {
            named.push(reference.key);
        }
    }
    Ok(Some(named))
}

/// The deltas and references stored directly in a deltaspace.
struct Listed {
    deltas: Vec<String>,
    references: Vec<String>,
}

async fn list_space<T: Backend>(call: Call<'_, T>, space: &str) -> Result<Listed, Stopped<T>> {
    let mut listed = Listed {
        deltas: Vec::new(),
        references: Vec::new(),
    };
    let mut token: Option<String> = None;
    loop {
        let page = list_page(call, space, token.as_deref()).await?;
        for object in page.objects {
            if keys::deltaspace(&object.key) != space {
                continue;
            }
            if object.key.ends_with(keys::DELTA_SUFFIX) {
                listed.deltas.push(object.key);
            } else if keys::is_reference(&object.key) {
                listed.references.push(object.key);
            }
        }
        match (page.truncated, page.next_token) {
            (true, Some(t)) => token = Some(t),
            _ => return Ok(listed),
        }
    }
}

/// What a stored delta named, read before it is replaced or removed: the reference that
/// may become unused.
pub(crate) enum Named {
    /// No delta was stored.
    Nothing,
    /// The delta named this reference (its full key).
    Reference(String),
    /// It could not be told (a backend error, unreadable metadata): assume any.
    Unknown,
}

impl Named {
    /// From the backend's answer to a HEAD (or GET) of delta `delta_key`.
    pub(crate) fn from_head(delta_key: &str, head: &crate::inner::Fetched) -> Self {
        match head.status {
            StatusCode::NOT_FOUND => Named::Nothing,
            s if s.is_success() => match ObjectMeta::parse(delta_key, |name| head.meta(name)) {
                Ok(ObjectMeta {
                    reference: Some(reference),
                    ..
                }) => Named::Reference(reference.key),
                _ => Named::Unknown,
            },
            _ => Named::Unknown,
        }
    }
}

/// HEADs `delta_key` for the reference it names. Never fails: what cannot be told is
/// [`Named::Unknown`], which only costs a sweep.
pub(crate) async fn named_by<T: Backend>(call: Call<'_, T>, delta_key: &str) -> Named {
    let Call { inner, bucket, .. } = call;
    match inner.head(bucket, delta_key).await {
        Ok(head) => Named::from_head(delta_key, &head),
        Err(_) => Named::Unknown,
    }
}

/// Called after a delta that named `released` was replaced by a delta naming `now` (or,
/// with `now` `None`, by a whole object, or deleted): sweeps the deltaspace when that may
/// have left a reference unused.
pub(crate) async fn after_replace<T: Backend>(
    call: Call<'_, T>,
    space: &str,
    released: &Named,
    now: Option<&str>,
) {
    let due = match released {
        Named::Nothing => false,
        Named::Reference(r) => now != Some(r.as_str()),
        Named::Unknown => true,
    };
    if due {
        remove_unused_references(call, space).await;
    }
}
