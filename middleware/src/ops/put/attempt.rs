//! One encoding of an original against a chosen reference, in one of three ways, and
//! the delta checked to decode back: none at all when the two share too little for a
//! delta to come under the bar; the decompressed payloads of compressed containers
//! (`crate::stored::payload`); the bytes themselves. Everything CPU-bound runs where the
//! configuration says (off the executor's threads).

use bytes::Bytes;
use deltaglider_codec::{EncodeOptions, Encoded, Md5, Md5Digest, Sha256, Sha256Digest, Sketch};

use crate::inner::Stop;
use crate::refs::choose::Chosen;
use crate::refs::load::Reference;
use crate::s3::error::S3Error;
use crate::state::config::DeltaConfig;
use crate::state::shared::Shared;
use crate::stored::meta::PayloadDelta;
use crate::stored::payload;

/// How an original is encoded against the chosen reference.
pub(super) enum Way {
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
pub(super) fn hopeless(config: &DeltaConfig, similarity: Option<f64>) -> bool {
    similarity.is_some_and(|s| s < min_similarity(config))
}

/// The similarity below which [`hopeless`] gives up.
pub(super) fn min_similarity(config: &DeltaConfig) -> f64 {
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
pub(super) async fn attempt<E, RB>(
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
pub(super) struct Attempt {
    pub(super) encoded: deltaglider_codec::Result<Encoded>,
    pub(super) payload_delta: Option<PayloadDelta>,
    pub(super) sha256: Sha256Digest,
    pub(super) md5: Md5Digest,
}

/// The delta limit for `data`: `max_delta_ratio` of its length.
pub(super) fn limit(config: &DeltaConfig, data: &[u8]) -> u64 {
    (data.len() as f64 * config.max_delta_ratio) as u64
}

/// [`Way::Skip`]: only hashes the original.
pub(super) async fn skip<E, RB>(
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

/// [`Way::Payload`]: a delta of the gzip payload, verified by `payload::encode` itself;
/// a delta of the bytes when the container's payload cannot be encoded.
pub(super) async fn by_payload<E, RB>(
    shared: &Shared,
    chosen: &Chosen,
    data: &Bytes,
    md5: Option<Md5Digest>,
    options: EncodeOptions,
) -> Result<Attempt, Stop<E, RB>> {
    match payload_only(shared, chosen, data, md5, options).await? {
        Payload::Done(attempt) => Ok(attempt),
        // Zip members it shares with the reference are the same compressed bytes there:
        // a delta of the bytes may still pay.
        Payload::Unsupported(md5) => {
            by_bytes(shared, &chosen.reference, data, Some(md5), options).await
        }
    }
}

/// What [`payload_only`] found.
pub(super) enum Payload {
    /// A payload delta, or none under the limit (then no delta of the bytes would be).
    Done(Attempt),
    /// The payload cannot be encoded, and a delta of the bytes may pay; the original's
    /// MD5.
    Unsupported(Md5Digest),
}

/// A delta of the container's payload against `chosen`'s, without falling back to one of
/// the bytes.
pub(super) async fn payload_only<E, RB>(
    shared: &Shared,
    chosen: &Chosen,
    data: &Bytes,
    md5: Option<Md5Digest>,
    options: EncodeOptions,
) -> Result<Payload, Stop<E, RB>> {
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
        payload::Outcome::Unsupported => return Ok(Payload::Unsupported(md5)),
    };
    Ok(Payload::Done(Attempt {
        encoded: Ok(encoded),
        payload_delta: gzip,
        sha256,
        md5,
    }))
}

/// [`Way::Bytes`]: a delta of the bytes, encoded beside the hashing.
pub(super) async fn by_bytes<E, RB>(
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

/// Never store what cannot be read back: a codec bug must not lose data. The original is
/// at hand, so comparing bytes beats hashing them again.
pub(super) async fn verified<E, RB>(
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
pub(super) async fn offloaded<T: Send + 'static, E, RB>(
    shared: &Shared,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stop<E, RB>> {
    Ok(shared.config.offload.run_or_fail(work).await?)
}

/// SHA-256 of `data`, and its MD5 unless already known.
pub(super) fn hash(data: &[u8], md5: Option<Md5Digest>) -> (Sha256Digest, Md5Digest) {
    (
        Sha256::digest(data),
        md5.unwrap_or_else(|| Md5::digest(data)),
    )
}

/// Encodes `data` against `reference` and hashes it (SHA-256, and MD5 unless given) — on
/// two cores at once where the platform has threads.
pub(super) fn encode_and_hash(
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
            seeded: false,
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
