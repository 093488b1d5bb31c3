//! Encoding an original against its deltaspace's reference: the reference chosen
//! (`crate::refs::choose`), one encoding (`super::attempt`), a renewed reference when the
//! rule says so (`super::renewal`), and the delta checked to decode back.

use bytes::Bytes;
use deltaglider_codec::{EncodeOptions, Encoded, Md5Digest, Sha256Digest};

use super::attempt::{Attempt, attempt, hash, offloaded, verified};
use super::renewal::{NewReference, linked_first, renewed};
use crate::call::{Backend, Call, Stopped};
use crate::refs::choose::{self, Chosen};
use crate::s3::error::S3Error;
use crate::state::metrics::Stopwatch;
use crate::stored::meta::PayloadDelta;

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
    let linked = linked_first(call, &chosen, data, md5, options).await?;
    let seeded = chosen.seeded.then(|| NewReference {
        key: chosen.key.clone(),
        bytes: chosen.reference.bytes.len() as u64,
        chained: false,
    });
    let (chosen, attempt, new_reference) = match linked {
        Some(done) => done,
        None => {
            let first = attempt(shared, &chosen, data, md5, options).await?;
            renewed(call, chosen, data, first, options).await?
        }
    };
    // The reference this upload seeded its deltaspace with is written beside the delta.
    let new_reference = new_reference.or(seeded);
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
        shared
            .counters
            .encoded(stopwatch.micros(), data.len() as u64);
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
