//! Chains of references: a renewed reference is stored as a delta of an older reference of
//! its deltaspace (FORMAT.md section 14), so following drift costs a delta, not a whole
//! object. Bases are picked as skip-deltas pick them: the reference with `dg-ref-seq` `n`
//! is a delta of its chain's reference `n & (n − 1)`, so no chain is deeper than the
//! number of set bits of `n` (about log₂ of the references made), whatever the order of
//! renewals.

use bytes::Bytes;
use deltaglider_codec::Sha256Digest;
use http::StatusCode;

use super::create::{create_chained, ensure_after_write};
use super::load::{Reference, load};
use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::state::cache::Link;
use crate::stored::meta::RefInfo;

/// A chain this deep is not extended (a whole reference is made instead): only reached
/// when sequence numbers disagree with the chain (references written concurrently).
const MAX_WRITE_DEPTH: u32 = 16;

/// The reference a new one chained after `chosen` is a delta of, and the new one's
/// `dg-ref-seq`.
pub(crate) struct Base {
    pub(crate) key: String,
    pub(crate) reference: Reference,
    pub(crate) seq: u64,
}

/// The sequence number of the base of reference `seq` (skip-deltas: its lowest set bit
/// cleared).
pub(crate) fn base_seq(seq: u64) -> u64 {
    seq & seq.wrapping_sub(1)
}

/// The base for a reference renewed after `chosen` (key and body): the ancestor of `chosen`
/// whose sequence number is [`base_seq`] of the new one's. `None` when an ancestor is gone
/// or the chain is as deep as [`MAX_WRITE_DEPTH`].
pub(crate) async fn base_for<T: Backend>(
    call: Call<'_, T>,
    chosen_key: &str,
    chosen: &Reference,
) -> Result<Option<Base>, Stopped<T>> {
    let seq = chosen.link.seq.saturating_add(1);
    let wanted = base_seq(seq);
    let (mut key, mut reference) = (chosen_key.to_owned(), chosen.clone());
    while reference.link.seq > wanted {
        let Some(base) = reference.link.base.clone() else {
            break;
        };
        match load(call, &base, None).await? {
            Some(found) => (key, reference) = (base, found),
            None => return Ok(None),
        }
    }
    if reference.link.depth >= MAX_WRITE_DEPTH {
        return Ok(None);
    }
    Ok(Some(Base {
        key,
        reference,
        seq,
    }))
}

/// A new reference to store as a delta of [`Base`].
pub(crate) struct NewLink<'a> {
    /// Its content-derived key.
    pub(crate) key: &'a str,
    /// The upload it is made from.
    pub(crate) source_key: &'a str,
    /// Its bytes (kept in the cache) and their SHA-256.
    pub(crate) data: &'a Bytes,
    pub(crate) sha256: &'a Sha256Digest,
    /// The delta from the base to `data`, verified to decode back.
    pub(crate) delta: &'a Bytes,
}

/// Creates `link` as a delta of `base` unless its key exists. `Ok(Some)` with the
/// reference (ours, or the existing one holding the same bytes); `Ok(None)` when a
/// different object holds the key. Afterwards the base is made sure to exist still (a
/// concurrent removal of an unused reference may have taken it), re-created whole from
/// memory if not.
pub(crate) async fn create_link<T: Backend>(
    call: Call<'_, T>,
    link: &NewLink<'_>,
    base: &Base,
) -> Result<Option<Reference>, Stopped<T>> {
    let Call { shared, bucket, .. } = call;
    let info = RefInfo {
        key: base.key.clone(),
        sha256: base.reference.sha256,
    };
    let created = create_chained(
        call,
        link.key,
        link.source_key,
        link.delta,
        (link.data.len() as u64, link.sha256),
        info,
        base.seq,
    )
    .await?;
    let made = match created.status {
        s if s.is_success() => {
            let made = Reference::linked(
                link.data.clone(),
                *link.sha256,
                Link {
                    base: Some(base.key.clone()),
                    seq: base.seq,
                    depth: base.reference.link.depth + 1,
                },
            );
            shared.cache.insert(bucket, link.key, made.clone());
            tracing::info!(
                bucket,
                ref_key = link.key,
                base = base.key,
                bytes = link.delta.len(),
                original = link.data.len(),
                "new reference, stored as a delta of an older one"
            );
            made
        }
        StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => {
            match load(call, link.key, None).await? {
                Some(existing) if existing.sha256 == *link.sha256 => existing,
                _ => return Ok(None),
            }
        }
        _ => return Err(pass_error(created)),
    };
    if !ensure_after_write(call, &base.key, link.key, &base.reference).await? {
        return Ok(None);
    }
    Ok(Some(made))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Depth of reference `seq` when every base is picked by [`base_seq`].
    fn depth(mut seq: u64) -> u32 {
        let mut depth = 0;
        while seq > 0 {
            seq = base_seq(seq);
            depth += 1;
        }
        depth
    }

    #[test]
    fn skip_deltas_keep_chains_logarithmic() {
        assert_eq!(base_seq(1), 0);
        assert_eq!(base_seq(2), 0);
        assert_eq!(base_seq(3), 2);
        assert_eq!(base_seq(6), 4);
        assert_eq!(base_seq(8), 0);
        for seq in 1..5000u64 {
            assert!(depth(seq) <= 64 - seq.leading_zeros(), "{seq}");
            // The base is on the chain of the reference before it: renewing after
            // `seq - 1` finds it by walking down that chain.
            let mut walk = seq - 1;
            while walk > base_seq(seq) {
                walk = base_seq(walk);
            }
            assert_eq!(walk, base_seq(seq), "{seq}");
        }
    }
}
