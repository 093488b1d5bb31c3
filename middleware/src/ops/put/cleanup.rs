//! After a write: the older stored form of the key removed, the reference a new delta
//! names re-checked, and references nothing names any more released.
//!
//! A key has one current form (`crate::stored::current`): a write leaves the other, if an
//! earlier write left one, to be removed here — unless a concurrent writer's is newer.

use std::cmp::Ordering;

use http::StatusCode;

use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::refs::choose::Chosen;
use crate::refs::create;
use crate::refs::unused::{self, Named};
use crate::s3::error::S3Error;
use crate::stored::current::{self, Written};
use crate::stored::keys;
use crate::stored::meta::Kind;

/// Called when an eligible key was just stored whole: an older delta of it must not stay
/// beside the new bytes, and the reference it named goes if nothing needs it any more.
pub(crate) async fn drop_older_delta<T: Backend>(call: Call<'_, T>) -> Result<(), Stopped<T>> {
    let Call { key, .. } = call;
    let released = remove_stale(call, Kind::Whole).await?;
    unused::after_replace(call, keys::deltaspace(key), &released, None).await;
    Ok(())
}

/// Called when a delta of the key, encoded against `chosen`, was just written at
/// `delta_key`; `replaced` is what the delta it overwrote named. Fails with `SlowDown`
/// (the delta removed) when the deltaspace's reference changed under it.
pub(super) async fn after_delta<T: Backend>(
    call: Call<'_, T>,
    delta_key: &str,
    chosen: &Chosen,
    replaced: Named,
) -> Result<(), Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let ref_key = chosen.key.as_str();
    if !create::ensure_after_write(call, ref_key, key, &chosen.reference).await? {
        // Another upload re-seeded the deltaspace with different bytes while this one was
        // encoding: this delta is useless. Remove it; the client's retry encodes afresh.
        let _ = inner.delete_stored(bucket, delta_key).await?;
        call.shared.cache.remove(bucket, ref_key);
        return Err(S3Error::new(
            "SlowDown",
            StatusCode::SERVICE_UNAVAILABLE,
            "the deltaspace's reference changed during the upload; retry",
        )
        .into());
    }
    // The whole object, if an earlier write left one, goes (readers would pick this delta
    // anyway: it is newer); so does a reference no delta names any more.
    remove_stale(call, Kind::Delta).await?;
    unused::after_replace(call, keys::deltaspace(key), &replaced, Some(ref_key)).await;
    Ok(())
}

/// Called when a delta of the key, encoded by ranges against `ref_key` (which the caller
/// found still there), was just written: the whole object goes unless a concurrent write
/// of it is newer, and a reference nothing names any more is released.
pub(super) async fn after_large_delta<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    replaced: Named,
) -> Result<(), Stopped<T>> {
    remove_stale(call, Kind::Delta).await?;
    unused::after_replace(call, keys::deltaspace(call.key), &replaced, Some(ref_key)).await;
    Ok(())
}

/// Removes the other stored form of `key` once `kept` is written — unless that other form
/// was written strictly later (a concurrent writer's: readers pick it). Returns what a
/// removed delta named.
async fn remove_stale<T: Backend>(call: Call<'_, T>, kept: Kind) -> Result<Named, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let delta_key = keys::delta_key(key);
    let (kept_key, stale_key) = match kept {
        Kind::Delta => (delta_key.as_str(), key),
        _ => (key, delta_key.as_str()),
    };
    let stale = inner.head(bucket, stale_key).await?;
    if stale.status == StatusCode::NOT_FOUND {
        return Ok(Named::Nothing);
    }
    if !stale.status.is_success() {
        return Err(pass_error(stale));
    }
    let ours = inner.head(bucket, kept_key).await?;
    if ours.status == StatusCode::NOT_FOUND {
        // Deleted meanwhile: the other form is all there is, leave it.
        return Ok(Named::Nothing);
    }
    if !ours.status.is_success() {
        return Err(pass_error(ours));
    }
    let (ours_at, stale_at) = (Written::of(&ours.headers), Written::of(&stale.headers));
    let stale_is_later = match kept {
        Kind::Delta => current::order(&ours_at, &stale_at) == Ordering::Greater,
        _ => current::order(&stale_at, &ours_at) == Ordering::Less,
    };
    if stale_is_later {
        return Ok(Named::Nothing);
    }
    inner.remove_stored(bucket, stale_key).await?;
    Ok(match kept {
        Kind::Delta => Named::Nothing,
        _ => Named::from_head(stale_key, &stale),
    })
}
