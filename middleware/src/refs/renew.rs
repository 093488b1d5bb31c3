//! Renewing references (re-baselining): when an object just stored should become a
//! reference itself, and making it one. The cost model is in `docs/DESIGN.md`, "Choosing
//! and renewing references".

use bytes::Bytes;
use deltaglider_codec::Sha256Digest;
use http::StatusCode;

use super::chain;
use super::choose::Chosen;
use super::create::create;
use super::listing::list_references;
use super::load::{Reference, load};
use super::unused::withdraw;
use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::state::config::References;
use crate::state::shared::Shared;
use crate::stored::keys;

/// A deltaspace stops gaining references for objects that resemble none of its references
/// once it has this many: a prefix of unrelated files must not grow a reference per upload.
pub(crate) const MAX_REFERENCES: usize = 16;

/// Smaller objects never become references: the saving could not pay for the extra object.
const MIN_REFERENCE_SIZE: usize = 64 << 10;

/// A delta under this share of its object is no drift worth a new link of a chain.
pub(crate) const MIN_DRIFT: f64 = 0.002;

/// What to do about the references after an object was encoded against `chosen`.
pub(crate) enum Renewal {
    /// Nothing: the object stays a delta of `chosen` (or whole).
    Keep,
    /// The object, resembling no reference, becomes a whole reference (under the cap).
    Whole,
    /// The object becomes a reference stored as a delta of `base`. `budget`: the largest
    /// share of the object that delta may take for the renewal to pay; `None` when the
    /// object's own delta against `chosen` (which is `base`) serves as it is.
    Chained {
        base: chain::Base,
        budget: Option<f64>,
    },
}

/// Whether, and how, the object just encoded against `chosen` (delta/original `ratio`,
/// `None` when no delta came under the limit; `bytes_delta`: the delta is of the bytes,
/// not of a container's payload) should become a reference itself.
///
/// Cost model (`docs/DESIGN.md`, "Choosing and renewing references"): a reference chained
/// onto `chosen` costs nothing over the object's own delta — it *is* that delta — so every
/// object that drifted measurably becomes one, and the next version is encoded against it.
/// Where the chain's rule puts the base further back (skip-deltas), or the object's delta
/// was of a container's payload, the link costs more than the object's delta; it is made
/// only if what the drift seen so far says it saves ([`drift_gain`]) pays for the
/// difference. An object that resembles no reference is stored whole anyway, so making it
/// a reference costs nothing and gives later versions a base (up to [`MAX_REFERENCES`]
/// per deltaspace).
pub(crate) async fn plan<T: Backend>(
    call: Call<'_, T>,
    chosen: &Chosen,
    len: usize,
    ratio: Option<f64>,
    bytes_delta: bool,
) -> Result<Renewal, Stopped<T>> {
    let Call { shared, bucket, .. } = call;
    if !eligible(shared, chosen, len) {
        return Ok(Renewal::Keep);
    }
    let Some(ratio) = ratio else {
        return Ok(if chosen.count < MAX_REFERENCES {
            Renewal::Whole
        } else {
            Renewal::Keep
        });
    };
    let history = shared.hints.observe(bucket, &chosen.key, ratio);
    let Some(base) = chain::base_for(call, &chosen.key, &chosen.reference).await? else {
        return Ok(Renewal::Keep);
    };
    if base.key == chosen.key && bytes_delta {
        return Ok(if ratio >= MIN_DRIFT {
            Renewal::Chained { base, budget: None }
        } else {
            Renewal::Keep
        });
    }
    let gain = drift_gain(&history);
    if gain <= 0.0 {
        return Ok(Renewal::Keep);
    }
    tracing::debug!(
        ratio,
        gain,
        versions = history.len(),
        ref_key = chosen.key,
        base = base.key,
        "a chained reference may pay"
    );
    Ok(Renewal::Chained {
        base,
        budget: Some(ratio + gain),
    })
}

/// Whether an object of `len` bytes encoded against `chosen` may become a reference at all.
pub(crate) fn eligible(shared: &Shared, chosen: &Chosen, len: usize) -> bool {
    shared.config.references != References::First && len >= MIN_REFERENCE_SIZE && !chosen.same_bytes
}

/// What renewing now saves over the next versions, as a share of one object: the cost
/// model's sum over the ratios seen against one reference, in order. With one ratio only,
/// the drift is measured from the reference itself (ratio 0).
fn drift_gain(ratios: &[f64]) -> f64 {
    let n = ratios.len();
    let (Some(&first), Some(&now)) = (ratios.first(), ratios.last()) else {
        return 0.0;
    };
    let horizon = (n / 2).max(1);
    // The recent slope: over as many versions as the horizon looks ahead.
    let slope = match n.checked_sub(horizon + 1).map(|i| ratios[i]) {
        Some(then) => ((now - then) / horizon as f64).max(0.0),
        None if n > 1 => ((now - first) / (n - 1) as f64).max(0.0),
        None => now,
    };
    ratios[..horizon]
        .iter()
        .enumerate()
        .map(|(j, r)| now + slope * (j + 1) as f64 - r)
        .sum()
}

/// The cost model's rule for a whole new reference: renewing pays when it saves more than
/// one object over the next versions.
#[cfg(test)]
fn renewal_pays(ratios: &[f64]) -> bool {
    drift_gain(ratios) > 1.0
}

/// Makes `data` a content-named reference of `key`'s deltaspace (`reference.<h>.bin`).
/// `None` if a different object already holds that name (a 64-bit prefix collision), or,
/// when `capped`, if creating it took the deltaspace over [`MAX_REFERENCES`].
///
/// The cap holds across instances without shared state: a writer that created a reference
/// lists the deltaspace afterwards and withdraws its own if there are too many. Of racing
/// writers, the last to finish its create sees every earlier one in its listing.
pub(crate) async fn new_reference<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
    sha256: &Sha256Digest,
    count: usize,
    capped: bool,
) -> Result<Option<Chosen>, Stopped<T>> {
    let Call {
        shared,
        bucket,
        key,
        ..
    } = call;
    let ref_key = keys::content_reference_key(keys::deltaspace(key), sha256);
    let created = create(call, &ref_key, key, data, sha256).await?;
    let found = match created.status {
        s if s.is_success() => {
            let made = Reference::new(data.clone(), *sha256);
            shared.cache.insert(bucket, &ref_key, made.clone());
            if capped {
                // Unable to count them, the new reference is not kept either.
                let over = list_references(call, keys::deltaspace(key))
                    .await
                    .map_or(usize::MAX, |listed| listed.len());
                if over > MAX_REFERENCES {
                    tracing::info!(
                        bucket,
                        ref_key,
                        references = over,
                        "over the cap after a concurrent create: withdrawing the new reference"
                    );
                    withdraw(call, &ref_key).await;
                    return Ok(None);
                }
            }
            tracing::info!(bucket, ref_key, bytes = data.len(), "new reference");
            made
        }
        // Content-named: an existing one holds these bytes, unless the names collide.
        StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => {
            match load(call, &ref_key, None).await? {
                Some(existing) if existing.sha256 == *sha256 => existing,
                _ => return Ok(None),
            }
        }
        _ => return Err(pass_error(created)),
    };
    Ok(Some(Chosen {
        key: ref_key,
        reference: found,
        similarity: Some(1.0),
        count: count + 1,
        same_bytes: true,
        by_payload: false,
        seeded: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ratios `r(1) … r(n)` of a family drifting as `r`.
    fn drift(n: usize, r: impl Fn(f64) -> f64) -> Vec<f64> {
        (1..=n).map(|j| r(j as f64)).collect()
    }

    #[test]
    fn steady_drift_renews_at_the_optimum() {
        // Daily dumps drifting 0.5 % a day: the optimum is √(2/a) = 20 versions.
        let daily = |j: f64| 0.005 * j;
        assert!(!renewal_pays(&drift(19, daily)));
        assert!(renewal_pays(&drift(21, daily)));
        // Faster drift, earlier renewal: 2 % a version → 10 versions.
        let fast = |j: f64| 0.02 * j;
        assert!(!renewal_pays(&drift(9, fast)));
        assert!(renewal_pays(&drift(11, fast)));
    }

    #[test]
    fn drift_that_levels_off_or_rare_steps_never_pay() {
        // Wheels-like: 9 % at once, levelling off near 30 %.
        let level = |j: f64| 0.3 - 0.21 * (-(j - 1.0) / 3.0).exp();
        for n in 1..=15 {
            assert!(!renewal_pays(&drift(n, level)), "{n}");
        }
        // npm-like: patch releases ~0, a 5 % step every third version — 1.7 % a
        // version on average, whose optimum is about 11 versions: not before ten.
        let steps = |j: f64| 0.05 * (j / 3.0).floor() + 0.0005;
        for n in 1..=10 {
            assert!(!renewal_pays(&drift(n, steps)), "{n}");
        }
        assert!(renewal_pays(&drift(15, steps)));
        assert!(!renewal_pays(&[]));
        assert!(!renewal_pays(&[0.45]));
    }
}
