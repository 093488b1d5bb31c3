//! Encoding an original against its deltaspace's reference: the reference chosen
//! (`crate::refs::choose`), one of three ways to encode, a renewed reference when the cost
//! model says so (`crate::refs::renew`), and the delta checked to decode back.
//!
//! The three ways: none at all when the two share too little for a delta to come under
//! the bar; the decompressed payloads of gzip objects (`crate::stored::payload`); the
//! bytes themselves. Everything CPU-bound runs where the configuration says (off the
//! executor's threads).

use bytes::Bytes;
use deltaglider_codec::{EncodeOptions, Encoded, Md5, Md5Digest, Sha256, Sha256Digest, Sketch};

use crate::call::{Backend, Call, Stopped};
use crate::inner::Stop;
use crate::refs::chain;
use crate::refs::choose::{self, Chosen};
use crate::refs::load::Reference;
use crate::refs::renew::{self, Renewal};
use crate::refs::unused;
use crate::s3::error::S3Error;
use crate::state::config::DeltaConfig;
use crate::state::metrics::Stopwatch;
use crate::state::shared::Shared;
use crate::stored::meta::PayloadDelta;
use crate::stored::{keys, payload};

/// An original encoded against its deltaspace's reference.
pub(super) struct Encoding {
    /// The reference it was encoded against (a renewed one holds the original itself);
    /// `None` when the deltaspace has none small enough to hold (no delta then).
    pub(super) chosen: Option<Chosen>,
    /// The reference this upload wrote beside its delta (a renewal), if any.
    pub(super) new_reference: Option<NewReference>,
    /// The delta, known to decode back to the original; `None` when none came under the
    /// configured ratio, and the original is stored whole.
    pub(super) delta: Option<Bytes>,
    /// Set when the delta is of the gzip payload: how its body splits.
    pub(super) payload_delta: Option<PayloadDelta>,
    /// The original's SHA-256.
    pub(super) sha256: Sha256Digest,
    /// The original's MD5 (its ETag).
    pub(super) md5: Md5Digest,
}

/// Encodes `data` (whose MD5 may be known) against the reference chosen for it.
pub(super) async fn encode<T: Backend>(
    call: Call<'_, T>,
    data: &Bytes,
    md5: Option<Md5Digest>,
) -> Result<Encoding, Stopped<T>> {
    let Call { shared, .. } = call;
    let config = &shared.config;
    let Some(chosen) = choose::choose(call, data).await? else {
        let target = data.clone();
        let (sha256, md5) = offloaded(shared, move || hash(&target, md5)).await?;
        return Ok(Encoding {
            chosen: None,
            new_reference: None,
            delta: None,
            payload_delta: None,
            sha256,
            md5,
        });
    };
    let options = EncodeOptions::default()
        .backend(config.backend)
        .level(config.level)
        .threads(config.encode_threads)
        .max_ratio(config.max_delta_ratio);
    let stopwatch = Stopwatch::start();
    let first = attempt(shared, &chosen, data, md5, options).await?;
    let (chosen, attempt, new_reference) = renewed(call, chosen, data, first, options).await?;
    let Attempt {
        encoded,
        payload_delta: gzip,
        sha256,
        md5,
    } = attempt;
    let encoded = encoded.map_err(|e| S3Error::internal(format!("delta encoding failed: {e}")))?;
    let delta = match encoded {
        // `payload::encode` decoded it again already.
        Encoded::Delta(delta) if gzip.is_some() => Some(Bytes::from(delta)),
        Encoded::Delta(delta) => Some(verified(shared, &chosen.reference, delta, data).await?),
        Encoded::Exceeded { .. } => None,
    };
    if delta.is_some() {
        shared.counters.encoded(stopwatch.micros());
    }
    Ok(Encoding {
        chosen: Some(chosen),
        new_reference,
        delta,
        payload_delta: gzip,
        sha256,
        md5,
    })
}

/// How an original is encoded against the chosen reference.
enum Way {
    /// Not at all: the two share too little.
    Skip,
    /// By the decompressed payloads of two gzip objects.
    Payload,
    /// By the bytes as they are.
    Bytes,
}

/// Whether a target sharing `similarity` of its sketch with a reference cannot come under
/// the ratio limit. A delta must at least spell out what it cannot copy: a share `s` gives
/// a delta of about `1 - s` of the target's size. Far below the bar (four times more
/// lenient than that estimate), encoding is skipped.
fn hopeless(config: &DeltaConfig, similarity: Option<f64>) -> bool {
    similarity.is_some_and(|s| s < min_similarity(config))
}

/// The similarity below which [`hopeless`] gives up.
fn min_similarity(config: &DeltaConfig) -> f64 {
    (1.0 - config.max_delta_ratio) / 4.0
}

impl Way {
    fn of(config: &DeltaConfig, chosen: &Chosen) -> Self {
        if hopeless(config, chosen.similarity) {
            Way::Skip
        } else if chosen.by_payload && !chosen.same_bytes {
            Way::Payload
        } else {
            Way::Bytes
        }
    }
}

/// Encodes `data` against `chosen` the way [`Way::of`] says.
async fn attempt<E, RB>(
    shared: &Shared,
    chosen: &Chosen,
    data: &Bytes,
    md5: Option<Md5Digest>,
    options: EncodeOptions,
) -> Result<Attempt, Stop<E, RB>> {
    match Way::of(&shared.config, chosen) {
        Way::Skip => skip(shared, chosen, data, md5).await,
        Way::Payload => by_payload(shared, chosen, data, md5, options).await,
        Way::Bytes => by_bytes(shared, &chosen.reference, data, md5, options).await,
    }
}

/// One encoding of an original, not yet verified.
struct Attempt {
    encoded: deltaglider_codec::Result<Encoded>,
    payload_delta: Option<PayloadDelta>,
    sha256: Sha256Digest,
    md5: Md5Digest,
}

/// The delta limit for `data`: `max_delta_ratio` of its length.
fn limit(config: &DeltaConfig, data: &[u8]) -> u64 {
    (data.len() as f64 * config.max_delta_ratio) as u64
}

/// [`Way::Skip`]: only hashes the original.
async fn skip<E, RB>(
    shared: &Shared,
    chosen: &Chosen,
    data: &Bytes,
    md5: Option<Md5Digest>,
) -> Result<Attempt, Stop<E, RB>> {
    tracing::debug!(similarity = ?chosen.similarity, "too little shared with the reference: not encoding");
    let target = data.clone();
    let (sha256, md5) = offloaded(shared, move || hash(&target, md5)).await?;
    Ok(Attempt {
        encoded: Ok(Encoded::Exceeded {
            limit: limit(&shared.config, data),
        }),
        payload_delta: None,
        sha256,
        md5,
    })
}

/// [`Way::Payload`]: a delta of the gzip payload, verified by `payload::encode` itself.
async fn by_payload<E, RB>(
    shared: &Shared,
    chosen: &Chosen,
    data: &Bytes,
    md5: Option<Md5Digest>,
    options: EncodeOptions,
) -> Result<Attempt, Stop<E, RB>> {
    let config = &shared.config;
    let (reference, target) = (chosen.reference.clone(), data.clone());
    let (max, ratio) = (config.max_payload_size, config.max_delta_ratio);
    let (outcome, sha256, md5, bytes_similarity) = offloaded(shared, move || {
        let (sha256, md5) = hash(&target, md5);
        let outcome = match reference.payload(max) {
            Some(payload) => {
                let max = usize::try_from(max).unwrap_or(usize::MAX);
                payload::encode(&reference.bytes, payload, &target, &options, ratio, max)
            }
            None => Ok(payload::Outcome::Unsupported),
        };
        // Only the payloads were compared so far; a delta of the bytes needs their own.
        let bytes_similarity = matches!(outcome, Ok(payload::Outcome::Unsupported))
            .then(|| Sketch::of(&target).similarity(reference.sketch()))
            .flatten();
        (outcome, sha256, md5, bytes_similarity)
    })
    .await?;
    let (encoded, gzip) = match outcome.map_err(S3Error::internal)? {
        payload::Outcome::Delta { body, info } => (Encoded::Delta(body), Some(info)),
        payload::Outcome::Exceeded { limit } => (Encoded::Exceeded { limit }, None),
        payload::Outcome::Unsupported if hopeless(config, bytes_similarity) => (
            Encoded::Exceeded {
                limit: limit(config, data),
            },
            None,
        ),
        // Zip members it shares with the reference are the same compressed bytes there:
        // a delta of the bytes may still pay.
        payload::Outcome::Unsupported => {
            return by_bytes(shared, &chosen.reference, data, Some(md5), options).await;
        }
    };
    Ok(Attempt {
        encoded: Ok(encoded),
        payload_delta: gzip,
        sha256,
        md5,
    })
}

/// [`Way::Bytes`]: a delta of the bytes, encoded beside the hashing.
async fn by_bytes<E, RB>(
    shared: &Shared,
    reference: &Reference,
    data: &Bytes,
    md5: Option<Md5Digest>,
    options: EncodeOptions,
) -> Result<Attempt, Stop<E, RB>> {
    let (reference, target) = (reference.bytes.clone(), data.clone());
    let (encoded, sha256, md5) = offloaded(shared, move || {
        encode_and_hash(&reference, &target, &options, md5)
    })
    .await?;
    Ok(Attempt {
        encoded,
        payload_delta: None,
        sha256,
        md5,
    })
}

/// Makes the original a reference itself when the cost model says so (`crate::refs::renew`)
/// — whole, or as a delta of an older reference — and encodes it again against that one;
/// otherwise `chosen` and `attempt` as they were.
async fn renewed<T: Backend>(
    call: Call<'_, T>,
    chosen: Chosen,
    data: &Bytes,
    attempt: Attempt,
    options: EncodeOptions,
) -> Result<(Chosen, Attempt, Option<NewReference>), Stopped<T>> {
    let Call { shared, .. } = call;
    let ratio = match &attempt.encoded {
        Ok(Encoded::Delta(delta)) => Some(delta.len() as f64 / data.len().max(1) as f64),
        _ => None,
    };
    if attempt.encoded.is_err() {
        return Ok((chosen, attempt, None));
    }
    let bytes_delta = attempt.payload_delta.is_none();
    let made = match renew::plan(call, &chosen, data.len(), ratio, bytes_delta).await? {
        Renewal::Keep => None,
        // An object resembling nothing is under the cap.
        Renewal::Whole => {
            let made =
                renew::new_reference(call, data, &attempt.sha256, chosen.count, true).await?;
            let Some(renewed) = made else {
                return Ok((chosen, attempt, None));
            };
            if let Some(rejoined) = rejoin(call, &chosen, &renewed, data, &attempt, options).await?
            {
                return Ok(rejoined);
            }
            let written = NewReference {
                key: renewed.key.clone(),
                bytes: data.len() as u64,
                chained: false,
            };
            Some((renewed, written))
        }
        Renewal::Chained { base, budget } => {
            chained(call, &chosen, data, &attempt, options, base, budget).await?
        }
    };
    let Some((renewed, written)) = made else {
        return Ok((chosen, attempt, None));
    };
    // The new reference holds exactly these bytes: its delta is one COPY per window.
    let target = data.clone();
    let delta = offloaded(shared, move || deltaglider_codec::identity_delta(&target)).await?;
    let attempt = Attempt {
        encoded: Ok(Encoded::Delta(delta)),
        payload_delta: None,
        ..attempt
    };
    Ok((renewed, attempt, Some(written)))
}

/// After the original became a whole reference, `mine`: if a concurrent upload made a
/// similar reference before it (`choose::earlier_similar`), the original is encoded against
/// that one instead and its own reference withdrawn (restored if someone named it
/// meanwhile). `None` when there is none, or no delta came under the limit against it.
async fn rejoin<T: Backend>(
    call: Call<'_, T>,
    chosen: &Chosen,
    mine: &Chosen,
    data: &Bytes,
    first: &Attempt,
    options: EncodeOptions,
) -> Result<Option<(Chosen, Attempt, Option<NewReference>)>, Stopped<T>> {
    let Call { shared, .. } = call;
    let floor = min_similarity(&shared.config);
    let Some(earlier) = choose::earlier_similar(call, data, &mine.key, &chosen.key, floor).await?
    else {
        return Ok(None);
    };
    let again = attempt(shared, &earlier, data, Some(first.md5), options).await?;
    if !matches!(again.encoded, Ok(Encoded::Delta(_))) {
        return Ok(None);
    }
    tracing::info!(
        bucket = call.bucket,
        key = call.key,
        ours = mine.key,
        earlier = earlier.key,
        "a concurrent upload made a similar reference first: encoding against it instead"
    );
    unused::withdraw(call, &mine.key).await;
    Ok(Some((earlier, again, None)))
}

/// A reference written by an upload beside its own delta.
pub(super) struct NewReference {
    /// Its key.
    pub(super) key: String,
    /// The bytes stored for it.
    pub(super) bytes: u64,
    /// Stored as a delta of an older reference (else whole).
    pub(super) chained: bool,
}

/// [`Renewal::Chained`]: the original made a reference stored as a delta of `base` — the
/// delta it was just encoded into when `base` is the chosen reference, else one encoded
/// against `base` within `budget` of its size. `None` when that delta does not fit or
/// the reference cannot be made.
async fn chained<T: Backend>(
    call: Call<'_, T>,
    chosen: &Chosen,
    data: &Bytes,
    attempt: &Attempt,
    options: EncodeOptions,
    base: chain::Base,
    budget: Option<f64>,
) -> Result<Option<(Chosen, NewReference)>, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let delta = match (budget, &attempt.encoded) {
        (None, Ok(Encoded::Delta(delta))) => delta.clone(),
        (Some(budget), _) => {
            let ratio = budget.min(shared.config.max_delta_ratio);
            let (reference, target) = (base.reference.clone(), data.clone());
            let options = options.max_ratio(ratio);
            let floor = min_similarity(&shared.config);
            let encoded = offloaded(shared, move || {
                // Compressed containers share little as bytes: a sketch says so at
                // memory speed, before an encode would find out.
                let similarity = Sketch::of(&target).similarity(reference.sketch());
                if similarity.is_some_and(|s| s < floor) {
                    return None;
                }
                deltaglider_codec::encode(&reference.bytes, &target, &options).ok()
            })
            .await?;
            match encoded {
                Some(Encoded::Delta(delta)) => delta,
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    let delta = verified(shared, &base.reference, delta, data).await?;
    let ref_key = keys::content_reference_key(keys::deltaspace(key), &attempt.sha256);
    let link = chain::NewLink {
        key: &ref_key,
        source_key: key,
        data,
        sha256: &attempt.sha256,
        delta: &delta,
    };
    let Some(reference) = chain::create_link(call, &link, &base).await? else {
        return Ok(None);
    };
    let written = NewReference {
        key: ref_key.clone(),
        bytes: delta.len() as u64,
        chained: true,
    };
    let renewed = Chosen {
        key: ref_key,
        reference,
        similarity: Some(1.0),
        count: chosen.count + 1,
        same_bytes: true,
        by_payload: false,
    };
    Ok(Some((renewed, written)))
}

/// Never store what cannot be read back: a codec bug must not lose data. The original is
/// at hand, so comparing bytes beats hashing them again.
async fn verified<E, RB>(
    shared: &Shared,
    reference: &Reference,
    delta: Vec<u8>,
    data: &Bytes,
) -> Result<Bytes, Stop<E, RB>> {
    let delta = Bytes::from(delta);
    let (source, checked, target) = (reference.bytes.clone(), delta.clone(), data.clone());
    let same = offloaded(shared, move || {
        deltaglider_codec::decode(&source, &checked, target.len() as u64).map(|back| back == target)
    })
    .await?
    .map_err(|e| S3Error::internal(format!("delta failed verification: {e}")))?;
    if !same {
        return Err(
            S3Error::internal("delta failed verification: it decodes to other bytes").into(),
        );
    }
    Ok(delta)
}

/// Runs CPU-heavy `work` where the configuration says (off the executor's threads).
async fn offloaded<T: Send + 'static, E, RB>(
    shared: &Shared,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stop<E, RB>> {
    Ok(shared.config.offload.run_or_fail(work).await?)
}

/// SHA-256 of `data`, and its MD5 unless already known.
fn hash(data: &[u8], md5: Option<Md5Digest>) -> (Sha256Digest, Md5Digest) {
    (
        Sha256::digest(data),
        md5.unwrap_or_else(|| Md5::digest(data)),
    )
}

/// Encodes `data` against `reference` and hashes it (SHA-256, and MD5 unless given) — on
/// two cores at once where the platform has threads.
fn encode_and_hash(
    reference: &[u8],
    data: &[u8],
    options: &EncodeOptions,
    md5: Option<Md5Digest>,
) -> (deltaglider_codec::Result<Encoded>, Sha256Digest, Md5Digest) {
    let hash = || hash(data, md5);
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::scope(|scope| {
            let encoding = scope.spawn(|| deltaglider_codec::encode(reference, data, options));
            let (sha256, md5) = hash();
            let encoded = encoding.join().unwrap_or_else(|_| {
                Err(deltaglider_codec::Error::Backend {
                    backend: options.get_backend(),
                    code: -1,
                    message: "the encoder panicked",
                })
            });
            (encoded, sha256, md5)
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        let (sha256, md5) = hash();
        (
            deltaglider_codec::encode(reference, data, options),
            sha256,
            md5,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(similarity: Option<f64>, same_bytes: bool, by_payload: bool) -> Chosen {
        let bytes = Bytes::from_static(b"reference");
        Chosen {
            key: "dir/reference.bin".into(),
            reference: Reference::new(bytes.clone(), Sha256::digest(&bytes)),
            similarity,
            count: 1,
            same_bytes,
            by_payload,
        }
    }

    #[test]
    fn the_way_follows_similarity_then_payload() {
        // Ratio 0.5: below a similarity of (1 - 0.5) / 4 = 0.125 no delta can pay.
        let config = DeltaConfig::default().max_delta_ratio(0.5);
        let way = |c: &Chosen| Way::of(&config, c);
        assert!(matches!(way(&chosen(Some(0.1), false, false)), Way::Skip));
        assert!(matches!(way(&chosen(Some(0.1), false, true)), Way::Skip));
        assert!(matches!(way(&chosen(Some(0.2), false, false)), Way::Bytes));
        assert!(matches!(way(&chosen(Some(0.2), false, true)), Way::Payload));
        // The same bytes: the byte delta is tiny, the payload detour is not needed.
        assert!(matches!(way(&chosen(Some(1.0), true, true)), Way::Bytes));
        // Too small to sketch: encoding decides.
        assert!(matches!(way(&chosen(None, false, false)), Way::Bytes));
    }
}
