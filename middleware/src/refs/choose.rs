//! Choosing the reference a new object is encoded against: the most similar of the
//! deltaspace's newest few, by similarity sketch.

use bytes::Bytes;
use deltaglider_codec::Sketch;

use super::create;
use super::listing::list_references_sized;
use super::load::{self, Reference};
use crate::call::{Backend, Call, Stopped};
use crate::state::config::References;
use crate::stored::{keys, payload};

/// The reference chosen for a PUT.
#[derive(Clone)]
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
    /// the target is a candidate for a payload delta (`crate::stored::payload`).
    pub(crate) by_payload: bool,
    /// This upload created the reference, seeding its deltaspace (so it wrote it).
    pub(crate) seeded: bool,
}

/// The reference a PUT of `key` encodes against, per the configured policy. A deltaspace
/// without references is seeded with `reference.bin` by this very upload.
///
/// `None` when every reference of the deltaspace is larger than `max_object_size` (seeded
/// by a large object): none can be held to encode against, and the object is stored whole.
pub(crate) async fn choose<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
) -> Result<Option<Chosen>, Stopped<T>> {
    let (candidates, count, seeded) = candidates(call, data).await?;
    if candidates.is_empty() {
        return Ok(None);
    }
    let (scores, by_payload) = scored(call, data, &candidates).await?;
    let best = most_similar(&scores);
    let mut chosen = taken(candidates, &scores[best], best, count, by_payload);
    chosen.seeded = seeded;
    Ok(Some(chosen))
}

/// Candidate `i`, scored `score`, as the reference chosen.
fn taken(
    mut candidates: Vec<(String, Reference)>,
    score: &Score,
    i: usize,
    count: usize,
    by_payload: bool,
) -> Chosen {
    let (key, reference) = candidates.swap_remove(i);
    Chosen {
        key,
        reference,
        similarity: score.similarity,
        count,
        same_bytes: score.same_bytes,
        by_payload,
        seeded: false,
    }
}

/// The references a PUT of `key` is compared with, newest first, and how many the
/// deltaspace holds: under [`References::Best`] the newest few listed, under
/// [`References::First`] (or when none is listed) `reference.bin`, seeded by this upload
/// if the deltaspace has none (then the last value is true: the only candidate is the
/// reference this upload wrote).
async fn candidates<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
) -> Result<(Vec<(String, Reference)>, usize, bool), Stopped<T>> {
    let Call { shared, key, .. } = call;
    let space = keys::deltaspace(key);
    let limit = shared.config.max_object_size;
    let (listed, n) = match shared.config.references {
        References::First => (Vec::new(), 1),
        References::Best(n) => (list_references_sized(call, space).await?, usize::from(n)),
    };
    let count = listed.len().max(1);
    // Under `Best` the listing covers `reference.bin` too.
    let listed_absent =
        matches!(shared.config.references, References::Best(_)) && listed.is_empty();
    let mut candidates = Vec::with_capacity(n);
    let mut too_large = false;
    for (ref_key, size) in listed.into_iter().take(n) {
        if size > limit {
            too_large = true;
            continue;
        }
        // `None`: removed since the listing.
        if let Some(found) = load::load(call, &ref_key, None).await? {
            candidates.push((ref_key, found));
        }
    }
    let mut seeded = false;
    if candidates.is_empty() && !too_large {
        let ref_key = keys::reference_key(space);
        if let Some((found, created)) =
            create::load_or_seed(call, &ref_key, key, data, listed_absent).await?
        {
            candidates.push((ref_key, found));
            seeded = created;
        }
    }
    Ok((candidates, count, seeded))
}

/// After this upload made `mine` a whole reference (it resembled none it was compared
/// with), the oldest reference of the deltaspace made *before* it — by a concurrent upload,
/// unseen when this one chose — that the target shares at least `min_similarity` with.
/// Concurrent uploads of one family that all found no base converge on the earliest of
/// their references this way: each sees every one created before its own.
pub(crate) async fn earlier_similar<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
    mine: &str,
    compared: &str,
    min_similarity: f64,
) -> Result<Option<Chosen>, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let listed = list_references_sized(call, keys::deltaspace(key)).await?;
    let Some(at) = listed.iter().position(|(k, _)| k == mine) else {
        return Ok(None);
    };
    let count = listed.len();
    let mut older = Vec::new();
    for (ref_key, size) in listed.into_iter().skip(at + 1).take(MAX_REJOIN) {
        if ref_key == compared || size > shared.config.max_object_size {
            continue;
        }
        if let Some(found) = load::load(call, &ref_key, None).await? {
            older.push((ref_key, found));
        }
    }
    if older.is_empty() {
        return Ok(None);
    }
    let (scores, by_payload) = scored(call, data, &older).await?;
    // Listed newest first: the last that qualifies is the oldest.
    let Some(pick) = scores
        .iter()
        .rposition(|s| s.similarity.is_some_and(|v| v >= min_similarity))
    else {
        return Ok(None);
    };
    Ok(Some(taken(older, &scores[pick], pick, count, by_payload)))
}

/// [`score`] of `data` against each of `candidates`. Sketching reads every byte of the
/// target (and, once, of each reference): off the executor, like encoding.
async fn scored<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
    candidates: &[(String, Reference)],
) -> Result<(Vec<Score>, bool), Stopped<T>> {
    let Call { shared, .. } = call;
    let references: Vec<Reference> = candidates.iter().map(|(_, r)| r.clone()).collect();
    let target = data.clone();
    let gzip_bound = shared
        .config
        .gzip_payloads
        .then_some(shared.config.max_payload_size);
    Ok(shared
        .config
        .offload
        .run_or_fail(move || score(&target, &references, gzip_bound))
        .await?)
}

/// How many older references [`earlier_similar`] looks at.
const MAX_REJOIN: usize = 8;

/// How a target compares with one reference.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score {
    /// Share of the target's sketch samples found in the reference (`None`: the target is
    /// too small to sketch).
    similarity: Option<f64>,
    /// The reference holds exactly the target's bytes.
    same_bytes: bool,
}

/// Scores `target` against each reference by similarity sketch; whether it was compared
/// by gzip payload. With `gzip_bound` (payloads of at most that many bytes), a gzip
/// target is compared by its decompressed payload with the payloads of gzip references:
/// compressed bytes hide all similarity.
fn score(target: &Bytes, references: &[Reference], gzip_bound: Option<u64>) -> (Vec<Score>, bool) {
    let payload = gzip_bound
        .filter(|_| payload::is_container(target))
        .and_then(|max| payload::inflate(target, usize::try_from(max).unwrap_or(usize::MAX)));
    let scores = match (&payload, gzip_bound) {
        (Some(payload), Some(max)) => {
            let sketch = Sketch::of(payload);
            references
                .iter()
                .map(|r| Score {
                    similarity: r
                        .payload_sketch(max)
                        .map_or(Some(0.0), |s| sketch.similarity(s)),
                    same_bytes: r.bytes == target,
                })
                .collect()
        }
        _ => {
            let sketch = Sketch::of(target);
            references
                .iter()
                .map(|r| Score {
                    similarity: sketch.similarity(r.sketch()),
                    same_bytes: r.bytes == target,
                })
                .collect()
        }
    };
    (scores, payload.is_some())
}

/// The index of the most similar; on a tie, the first (the newest: listed first). An
/// unknown similarity ranks below every known one.
fn most_similar(scores: &[Score]) -> usize {
    let mut best = 0;
    for (i, score) in scores.iter().enumerate() {
        if score.similarity > scores[best].similarity {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(similarities: &[Option<f64>]) -> Vec<Score> {
        similarities
            .iter()
            .map(|&similarity| Score {
                similarity,
                same_bytes: false,
            })
            .collect()
    }

    #[test]
    fn the_most_similar_wins_and_the_newest_breaks_ties() {
        assert_eq!(most_similar(&scores(&[Some(0.2), Some(0.9), Some(0.5)])), 1);
        assert_eq!(most_similar(&scores(&[Some(0.7), Some(0.3), Some(0.7)])), 0);
        assert_eq!(most_similar(&scores(&[None, Some(0.0)])), 1);
        assert_eq!(most_similar(&scores(&[None, None])), 0);
        assert_eq!(most_similar(&scores(&[Some(0.4)])), 0);
    }
}
