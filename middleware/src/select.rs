//! Choosing the reference a new object is encoded against, and renewing references
//! (re-baselining). The cost model is in `docs/DESIGN.md`, "Choosing and renewing
//! references".

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use deltaglider_codec::{Sha256Digest, Sketch};
use http::StatusCode;

use crate::config::References;
use crate::delta::Shared;
use crate::inner::{ByteBody, Inner, InnerS3, Stop, pass_error};
use crate::keys;
use crate::reference::{self, Reference};

/// A deltaspace stops gaining references for objects that resemble none of its references
/// once it has this many: a prefix of unrelated files must not grow a reference per upload.
const MAX_REFERENCES: usize = 16;

/// Smaller objects never become references: the saving could not pay for the extra object.
const MIN_REFERENCE_SIZE: usize = 64 << 10;

/// The reference chosen for a PUT.
pub(crate) struct Chosen {
    pub(crate) key: String,
    pub(crate) reference: Reference,
    /// Share of the target's similarity-sketch samples found in the reference.
    pub(crate) similarity: Option<f64>,
    /// How many references the deltaspace holds (as listed; 1 under [`References::First`]).
    pub(crate) count: usize,
    /// The reference holds exactly the target's bytes (this upload seeded it, or re-sends
    /// it): its tiny delta says nothing about how versions drift.
    pub(crate) same_bytes: bool,
    /// Target and reference are gzip and were compared by their decompressed payloads:
    /// the target is a candidate for a payload delta (`crate::payload`).
    pub(crate) by_payload: bool,
}

/// The delta ratios of the versions encoded against each reference (by this instance), in
/// order: the cost model's evidence of how versions drift from a reference. A hint kept in
/// memory; losing it only delays a re-baseline.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    ratios: Mutex<HashMap<(String, String), Vec<f64>>>,
}

/// History kept per reference; a re-baseline is long due before it fills.
const MAX_HISTORY: usize = 256;

impl Hints {
    /// Records the ratio of one more version encoded against `ref_key`; returns the
    /// history with it.
    fn observe(&self, bucket: &str, ref_key: &str, ratio: f64) -> Vec<f64> {
        let mut map = self
            .ratios
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        let history = map
            .entry((bucket.to_owned(), ref_key.to_owned()))
            .or_default();
        if history.len() < MAX_HISTORY {
            history.push(ratio);
        } else if let Some(last) = history.last_mut() {
            *last = ratio;
        }
        history.clone()
    }
}

/// The reference a PUT of `key` encodes against, per the configured policy. A deltaspace
/// without references is seeded with `reference.bin` by this very upload.
pub(crate) async fn for_put<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    data: &Bytes,
) -> Result<Chosen, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let space = keys::deltaspace(key);
    let (listed, n) = match shared.config.references {
        References::First => (Vec::new(), 1),
        References::Best(n) => (list_references(inner, bucket, space).await?, usize::from(n)),
    };
    let count = listed.len().max(1);
    let mut candidates = Vec::with_capacity(n);
    for ref_key in listed.into_iter().take(n) {
        // `None`: removed since the listing.
        if let Some(found) = reference::load(shared, inner, bucket, &ref_key, None).await? {
            candidates.push((ref_key, found));
        }
    }
    if candidates.is_empty() {
        let ref_key = keys::reference_key(space);
        let found = reference::for_put(shared, inner, bucket, &ref_key, key, data).await?;
        candidates.push((ref_key, found));
    }
    // Sketching reads every byte of the target (and, once, of each reference): off the
    // executor, like encoding. A gzip target is compared by its decompressed payload with
    // the payloads of gzip references (compressed bytes hide all similarity).
    let references: Vec<Reference> = candidates.iter().map(|(_, r)| r.clone()).collect();
    let target = data.clone();
    let gzip_bound = shared
        .config
        .gzip_payloads
        .then_some(shared.config.max_payload_size);
    let (scores, by_payload) = shared
        .config
        .offload
        .run_or_fail(move || {
            let payload = gzip_bound
                .filter(|_| crate::payload::is_gzip(&target))
                .and_then(|max| {
                    crate::payload::inflate(&target, usize::try_from(max).unwrap_or(usize::MAX))
                });
            let scores = match (&payload, gzip_bound) {
                (Some(payload), Some(max)) => {
                    let sketch = Sketch::of(payload);
                    references
                        .iter()
                        .map(|r| {
                            let similarity = r
                                .payload_sketch(max)
                                .map_or(Some(0.0), |s| sketch.similarity(s));
                            (similarity, r.bytes == target)
                        })
                        .collect::<Vec<_>>()
                }
                _ => {
                    let sketch = Sketch::of(&target);
                    references
                        .iter()
                        .map(|r| (sketch.similarity(r.sketch()), r.bytes == target))
                        .collect()
                }
            };
            (scores, payload.is_some())
        })
        .await?;
    // The most similar; on a tie, the newest (listed first).
    let mut best = 0;
    for (i, (similarity, _)) in scores.iter().enumerate() {
        if *similarity > scores[best].0 {
            best = i;
        }
    }
    let (similarity, same_bytes) = scores[best];
    let (key, reference) = candidates.swap_remove(best);
    Ok(Chosen {
        key,
        reference,
        similarity,
        count,
        same_bytes,
        by_payload,
    })
}

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
#[allow(clippy::too_many_arguments)]
pub(crate) async fn new_reference<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    data: &Bytes,
    sha256: &Sha256Digest,
    count: usize,
    capped: bool,
) -> Result<Option<Chosen>, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let ref_key = keys::content_reference_key(keys::deltaspace(key), sha256);
    let created = reference::create(inner, bucket, &ref_key, key, data, sha256).await?;
    let found = match created.status {
        s if s.is_success() => {
            let made = Reference::new(data.clone(), *sha256);
            shared.cache.insert(bucket, &ref_key, made.clone());
            if capped {
                // Unable to count them, the new reference is not kept either.
                let over = list_references(inner, bucket, keys::deltaspace(key))
                    .await
                    .map_or(usize::MAX, |listed| listed.len());
                if over > MAX_REFERENCES {
                    tracing::info!(
                        bucket,
                        ref_key,
                        references = over,
                        "over the cap after a concurrent create: withdrawing the new reference"
                    );
                    crate::unused::withdraw(shared, inner, bucket, &ref_key).await;
                    return Ok(None);
                }
            }
            tracing::info!(bucket, ref_key, bytes = data.len(), "new reference");
            made
        }
        // Content-named: an existing one holds these bytes, unless the names collide.
        StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => {
            match reference::load(shared, inner, bucket, &ref_key, None).await? {
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

/// The references of deltaspace `space`, newest first.
pub(crate) async fn list_references<S, B, RB>(
    inner: &Inner<S>,
    bucket: &str,
    space: &str,
) -> Result<Vec<String>, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    let mut found: Vec<(Option<String>, String)> = Vec::new();
    let mut token: Option<String> = None;
    let prefix = format!("{space}reference.");
    loop {
        let page = reference::list_page(inner, bucket, &prefix, token.as_deref()).await?;
        found.extend(
            page.objects
                .into_iter()
                .filter(|o| keys::is_reference(&o.key) && keys::deltaspace(&o.key) == space)
                .map(|o| (o.last_modified, o.key)),
        );
        match (page.truncated, page.next_token) {
            (true, Some(t)) => token = Some(t),
            _ => break,
        }
    }
    // RFC 3339 times from one backend sort as text; ties go to the later name.
    found.sort_by(|a, b| b.cmp(a));
    Ok(found.into_iter().map(|(_, key)| key).collect())
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

    #[test]
    fn hints_keep_each_references_history() {
        let hints = Hints::default();
        assert_eq!(hints.observe("b", "p/reference.bin", 0.02), [0.02]);
        assert_eq!(hints.observe("b", "p/reference.bin", 0.01), [0.02, 0.01]);
        assert_eq!(hints.observe("b", "q/reference.bin", 0.05), [0.05]);
        assert_eq!(hints.observe("c", "p/reference.bin", 0.07), [0.07]);
    }
}
