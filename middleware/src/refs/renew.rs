//! Renewing references (re-baselining): when an object just stored should become a
//! reference itself, and making it one. The cost model is in `docs/DESIGN.md`, "Choosing
//! and renewing references".

use bytes::Bytes;
use deltaglider_codec::Sha256Digest;
use http::StatusCode;

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

/// Whether the object just encoded against `chosen` (delta/original `ratio`, `None` when
/// no delta came under the limit) should become a reference itself.
///
/// Cost model (`docs/DESIGN.md`, "Choosing and renewing references"): a new reference costs
/// one object size now; what it buys is that the versions after it delta against it
/// instead of the old one. The `n` ratios seen against the current reference, `r₁ … rₙ`,
/// are the evidence. Over a horizon of `h = n/2` further versions (a stream is assumed to
/// go on for half as long again as it has with this reference), the old reference would
/// keep drifting at the recent slope `s = (rₙ − rₙ₋ₕ)/h`, while a new one would drift as
/// this one did from its start; renewing now pays when
/// `Σⱼ₌₁..ₕ (rₙ + s·j − rⱼ) > 1`. Steady drift `rⱼ = a·j` gives `n·rₙ ≥ 2`, the optimum
/// of the steady-state model (renew after `√(2/a)` versions); drift that levels off (the
/// new reference would soon be as far from later versions) or steps that are rare never
/// repay a whole object, and are left alone. An object that resembles no reference is
/// stored whole anyway, so making it a reference costs nothing and gives later versions a
/// base (up to [`MAX_REFERENCES`] per deltaspace).
pub(crate) fn rebaseline_due(
    shared: &Shared,
    bucket: &str,
    chosen: &Chosen,
    len: usize,
    ratio: Option<f64>,
) -> bool {
    if shared.config.references == References::First
        || len < MIN_REFERENCE_SIZE
        || chosen.same_bytes
    {
        return false;
    }
    let Some(ratio) = ratio else {
        return chosen.count < MAX_REFERENCES;
    };
    let history = shared.hints.observe(bucket, &chosen.key, ratio);
    let due = renewal_pays(&history);
    if due {
        tracing::debug!(
            ratio,
            versions = history.len(),
            ref_key = chosen.key,
            "re-baselining"
        );
    }
    due
}

/// The cost model's rule over the ratios seen against one reference, in order.
fn renewal_pays(ratios: &[f64]) -> bool {
    let n = ratios.len();
    let (Some(&first), Some(&now)) = (ratios.first(), ratios.last()) else {
        return false;
    };
    let horizon = (n / 2).max(1);
    // The recent slope: over as many versions as the horizon looks ahead.
    let slope = match n.checked_sub(horizon + 1).map(|i| ratios[i]) {
        Some(then) => ((now - then) / horizon as f64).max(0.0),
        None if n > 1 => ((now - first) / (n - 1) as f64).max(0.0),
        None => 0.0,
    };
    let gain: f64 = ratios[..horizon]
        .iter()
        .enumerate()
        .map(|(j, r)| now + slope * (j + 1) as f64 - r)
        .sum();
    gain > 1.0
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
