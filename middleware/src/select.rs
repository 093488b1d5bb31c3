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

/// How many versions were encoded against each reference (by this instance): the cost
/// model's `n`. A hint kept in memory; losing it only delays a re-baseline.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    versions: Mutex<HashMap<(String, String), u32>>,
}

impl Hints {
    /// Counts one more version encoded against `ref_key`; returns the count with it.
    fn observe(&self, bucket: &str, ref_key: &str) -> u32 {
        let mut map = self
            .versions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        let n = map
            .entry((bucket.to_owned(), ref_key.to_owned()))
            .or_insert(0);
        *n = n.saturating_add(1);
        *n
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
                                .payload(max)
                                .map_or(Some(0.0), |(_, s)| sketch.similarity(s));
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
/// Cost model: deltas against a fixed reference grow as versions drift from it, about
/// `a` (the ratio between consecutive versions) per version, so keeping a reference for
/// `m` versions costs about `a·m²/2` object sizes in deltas, and a new reference costs one
/// object size. The cost per version, `1/m + a·m/2`, is smallest at `m = √(2/a)`. The
/// `n`-th version against a reference, at ratio `r ≈ a·n`, estimates `a ≈ r/n`; it is at
/// or past that optimum when `n ≥ √(2n/r)`, i.e. when `n·r ≥ 2`: that is the rule. (The
/// smallest ratio seen is a poor estimate of `a`: patch releases a few bytes apart would
/// make it tiny, and every minor release would then pay for a new reference.) An object
/// that resembles no reference is stored whole anyway, so making it a reference costs
/// nothing and gives later versions a base (up to [`MAX_REFERENCES`] per deltaspace).
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
    let versions = shared.hints.observe(bucket, &chosen.key);
    let due = drifted(ratio, versions);
    if due {
        tracing::debug!(ratio, versions, ref_key = chosen.key, "re-baselining");
    }
    due
}

/// The cost model's rule: the `n`-th version against a reference, at delta ratio `r`, is
/// due to become a reference when `n·r ≥ 2`.
fn drifted(ratio: f64, versions: u32) -> bool {
    f64::from(versions) * ratio >= 2.0
}

/// Makes `data` a content-named reference of `key`'s deltaspace (`reference.<h>.bin`).
/// `None` if a different object already holds that name (a 64-bit prefix collision).
pub(crate) async fn new_reference<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    data: &Bytes,
    sha256: &Sha256Digest,
    count: usize,
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

    #[test]
    fn cost_model_threshold() {
        // Daily dumps drifting 0.5 % a day: the 19th is at 9.5 %, the 20th at 10 %, the
        // optimum √(2/a) = 20 versions.
        assert!(!drifted(19.0 * 0.005, 19));
        assert!(drifted(20.0 * 0.005, 20));
        // A jump (a minor release at 30 %) is not worth a reference on its own...
        assert!(!drifted(0.30, 4));
        // ...but staying there for seven versions is.
        assert!(drifted(0.30, 7));
        // Versions 25 % apart each: by the second version the ratio is past max_delta_ratio.
        assert!(!drifted(0.25, 1));
    }

    #[test]
    fn hints_count_versions_per_reference() {
        let hints = Hints::default();
        assert_eq!(hints.observe("b", "p/reference.bin"), 1);
        assert_eq!(hints.observe("b", "p/reference.bin"), 2);
        assert_eq!(hints.observe("b", "q/reference.bin"), 1);
        assert_eq!(hints.observe("c", "p/reference.bin"), 1);
    }
}
