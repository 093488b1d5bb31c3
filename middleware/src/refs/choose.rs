//! Choosing the reference a new object is encoded against: the most similar of the
//! deltaspace's newest few, by similarity sketch.

use bytes::Bytes;
use deltaglider_codec::Sketch;

use super::create;
use super::listing::list_references;
use super::load::{self, Reference};
use crate::call::{Backend, Call, Stopped};
use crate::state::config::References;
use crate::stored::{keys, payload};

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
    /// the target is a candidate for a payload delta (`crate::stored::payload`).
    pub(crate) by_payload: bool,
}

/// The reference a PUT of `key` encodes against, per the configured policy. A deltaspace
/// without references is seeded with `reference.bin` by this very upload.
pub(crate) async fn choose<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
) -> Result<Chosen, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let space = keys::deltaspace(key);
    let (listed, n) = match shared.config.references {
        References::First => (Vec::new(), 1),
        References::Best(n) => (list_references(call, space).await?, usize::from(n)),
    };
    let count = listed.len().max(1);
    let mut candidates = Vec::with_capacity(n);
    for ref_key in listed.into_iter().take(n) {
        // `None`: removed since the listing.
        if let Some(found) = load::load(call, &ref_key, None).await? {
            candidates.push((ref_key, found));
        }
    }
    if candidates.is_empty() {
        let ref_key = keys::reference_key(space);
        let found = create::load_or_seed(call, &ref_key, key, data).await?;
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
                .filter(|_| payload::is_gzip(&target))
                .and_then(|max| {
                    payload::inflate(&target, usize::try_from(max).unwrap_or(usize::MAX))
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
