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

/// The smallest delta ratio seen against each reference: the cost model's estimate of how
/// far consecutive versions are apart. A hint kept in memory; losing it only delays a
/// re-baseline.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    smallest: Mutex<HashMap<(String, String), f64>>,
}

impl Hints {
    /// Records `ratio` for `ref_key`; returns the smallest ratio seen before this one.
    fn observe(&self, bucket: &str, ref_key: &str, ratio: f64) -> Option<f64> {
        let mut map = self
            .smallest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        let entry = map.entry((bucket.to_owned(), ref_key.to_owned()));
        match entry {
            std::collections::hash_map::Entry::Occupied(mut seen) => {
                let before = *seen.get();
                seen.insert(before.min(ratio));
                Some(before)
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(ratio);
                None
            }
        }
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
        .then_some(shared.config.max_object_size);
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
/// object size. The cost per version, `1/m + a·m/2`, is smallest at `m = √(2/a)`, when the
/// delta ratio has reached `a·m = √(2a)`: that is the threshold. `a` is estimated as the
/// smallest ratio seen against the reference. An object that resembles no reference is
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
    let Some(smallest) = shared.hints.observe(bucket, &chosen.key, ratio) else {
        return false;
    };
    let due = drifted(ratio, smallest);
    if due {
        tracing::debug!(ratio, smallest, ref_key = chosen.key, "re-baselining");
    }
    due
}

/// The cost model's threshold: a delta ratio of `√(2a)`, `a` the consecutive-version ratio.
fn drifted(ratio: f64, consecutive: f64) -> bool {
    ratio >= (2.0 * consecutive).sqrt()
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
        // Daily dumps 0.5 % apart: renew at 10 %, not before.
        assert!(!drifted(0.05, 0.005));
        assert!(drifted(0.10, 0.005));
        // Versions 9 % apart: the threshold (42 %) is near the give-up ratio.
        assert!(!drifted(0.30, 0.09));
        assert!(drifted(0.43, 0.09));
    }

    #[test]
    fn hints_keep_the_smallest_ratio() {
        let hints = Hints::default();
        assert_eq!(hints.observe("b", "p/reference.bin", 0.02), None);
        assert_eq!(hints.observe("b", "p/reference.bin", 0.01), Some(0.02));
        assert_eq!(hints.observe("b", "p/reference.bin", 0.05), Some(0.01));
        assert_eq!(hints.observe("b", "q/reference.bin", 0.05), None);
    }
}
