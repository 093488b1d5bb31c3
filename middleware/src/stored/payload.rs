//! Deltas inside compressed containers (`docs/FORMAT.md`, section 13): a gzip, zip, bzip2
//! or xz object is stored as a delta of its decompressed payload against its reference's
//! payload, preceded by the recipe that recompresses the payload into the exact original.
//!
//! Everything here is CPU-bound and synchronous: callers run it off the executor.
//! Without the crate's `gzip` feature nothing is stored this way, and reading such an
//! object fails clearly.

use deltaglider_codec::{EncodeOptions, Sha256, Sha256Digest};

use crate::stored::meta::PayloadDelta;

/// Most memory an encoder identified at PUT may need, so that rebuilding the object fits
/// where this build runs: a Worker has 128 MB for everything (xz up to `-4`), a native
/// proxy takes every preset (`xz -9`: 674 MiB).
#[cfg_attr(not(feature = "gzip"), allow(dead_code))]
const MAX_ENCODER_MEMORY: u64 = if cfg!(target_arch = "wasm32") {
    48 << 20
} else {
    1 << 30
};

/// The decompressed payload of `data` if it is a container, at most `max` bytes.
pub(crate) fn inflate(data: &[u8], max: usize) -> Option<Vec<u8>> {
    #[cfg(feature = "gzip")]
    {
        use deltaglider_codec::container;
        container::payload(data, &container::Limits::default().max_payload(max))
    }
    #[cfg(not(feature = "gzip"))]
    {
        let _ = (data, max);
        None
    }
}

/// Whether `data` looks like a container (and this build can store payload deltas).
pub(crate) fn is_container(data: &[u8]) -> bool {
    #[cfg(feature = "gzip")]
    {
        deltaglider_codec::container::kind(data).is_some()
    }
    #[cfg(not(feature = "gzip"))]
    {
        let _ = data;
        false
    }
}

/// What [`encode`] made of a container target.
#[cfg_attr(not(feature = "gzip"), allow(dead_code))]
pub(crate) enum Outcome {
    /// It cannot be rebuilt byte for byte from its payload (an encoder the engine cannot
    /// reproduce), most of it would stay compressed in the payload (zip members nothing
    /// rebuilds), or its payload is over the bound: store it by the other rules.
    Unsupported,
    /// Recipe and payload delta together would exceed `limit` bytes.
    Exceeded { limit: u64 },
    /// Ready to store.
    Delta {
        /// `recipe ++ delta`.
        body: Vec<u8>,
        /// What the metadata records about it.
        info: PayloadDelta,
    },
}

/// Encodes container `target` as a payload delta against `reference_payload`, the payload
/// of container `reference` (whose zip members `target` shares are copied from it rather
/// than recompressed); the stored form must stay under `max_ratio` of `target`'s
/// (compressed) length. The delta is
/// decoded again and compared before it is returned, so a codec bug cannot store
/// something unreadable (that, or an encoder failure, is the error).
pub(crate) fn encode(
    reference: &[u8],
    reference_payload: &[u8],
    target: &[u8],
    options: &EncodeOptions,
    max_ratio: f64,
    max_payload: usize,
) -> Result<Outcome, String> {
    #[cfg(feature = "gzip")]
    {
        use deltaglider_codec::{Encoded, container};
        let limits = container::Limits::default()
            .max_payload(max_payload)
            .max_encoder_memory(MAX_ENCODER_MEMORY);
        let Some(unpacked) = container::unpack_against(target, Some(reference), &limits)
            .ok()
            .flatten()
        else {
            return Ok(Outcome::Unsupported);
        };
        // A zip member no method rebuilds stays compressed in the payload, where the
        // reference's payload holds its contents: when such members are most of what the
        // archive declares, the payloads share little and the delta costs more than it saves.
        let declared = container::declared_payload_size(target).unwrap_or(0);
        if (unpacked.payload.len() as u64) < declared / 2 {
            return Ok(Outcome::Unsupported);
        }
        let limit = (target.len() as f64 * max_ratio) as u64;
        let room = limit.saturating_sub(unpacked.recipe.len() as u64);
        if room == 0 {
            return Ok(Outcome::Exceeded { limit });
        }
        let payload_len = unpacked.payload.len().max(1) as f64;
        let options = (*options).max_ratio(room as f64 / payload_len);
        let delta = match deltaglider_codec::encode(reference_payload, &unpacked.payload, &options)
        {
            Ok(Encoded::Delta(delta)) => delta,
            Ok(Encoded::Exceeded { .. }) => return Ok(Outcome::Exceeded { limit }),
            Err(e) => return Err(format!("payload delta encoding failed: {e}")),
        };
        let back =
            deltaglider_codec::decode(reference_payload, &delta, unpacked.payload.len() as u64)
                .map_err(|e| format!("payload delta failed verification: {e}"))?;
        if back != unpacked.payload {
            return Err("payload delta failed verification: it decodes to other bytes".into());
        }
        let info = PayloadDelta {
            container: match unpacked.container {
                container::Container::Gzip => crate::stored::meta::Container::Gzip,
                container::Container::Zip => crate::stored::meta::Container::Zip,
                container::Container::Bzip2 => crate::stored::meta::Container::Bzip2,
                container::Container::Xz => crate::stored::meta::Container::Xz,
            },
            recipe_size: unpacked.recipe.len() as u64,
            payload_size: unpacked.payload.len() as u64,
        };
        let mut body = unpacked.recipe;
        body.extend_from_slice(&delta);
        Ok(Outcome::Delta { body, info })
    }
    #[cfg(not(feature = "gzip"))]
    {
        let _ = (
            reference,
            reference_payload,
            target,
            options,
            max_ratio,
            max_payload,
        );
        Ok(Outcome::Unsupported)
    }
}

/// Rebuilds the original object from a stored `body` (recipe, then payload delta), the
/// reference and its payload; checks its length and SHA-256.
pub(crate) fn decode(
    reference: &[u8],
    reference_payload: &[u8],
    body: &[u8],
    info: PayloadDelta,
    len: u64,
    sha256: &Sha256Digest,
) -> Result<Vec<u8>, String> {
    #[cfg(feature = "gzip")]
    {
        let split = usize::try_from(info.recipe_size)
            .ok()
            .filter(|&n| n <= body.len())
            .ok_or_else(|| {
                format!(
                    "the recipe ({} bytes) is longer than the delta",
                    info.recipe_size
                )
            })?;
        let (recipe, delta) = body.split_at(split);
        let payload = deltaglider_codec::decode(reference_payload, delta, info.payload_size)
            .map_err(|e| format!("payload delta: {e}"))?;
        let original =
            deltaglider_codec::container::repack_against(&payload, recipe, Some(reference))
                .map_err(|e| format!("recipe: {e}"))?;
        if original.len() as u64 != len || Sha256::digest(&original) != *sha256 {
            return Err("the rebuilt object does not match its SHA-256".into());
        }
        Ok(original)
    }
    #[cfg(not(feature = "gzip"))]
    {
        let _ = (
            reference,
            reference_payload,
            body,
            info,
            len,
            sha256,
            Sha256::digest,
        );
        Err("this build has no container support (crate feature `gzip`)".into())
    }
}

/// The payload size a container declares before it is inflated, for bounding a cache; for
/// bzip2 and xz, which declare none up front, an estimate of 5× their length (about what
/// tar archives compress by).
pub(crate) fn declared_payload_size(data: &[u8]) -> Option<u64> {
    #[cfg(feature = "gzip")]
    {
        use deltaglider_codec::container;
        container::declared_payload_size(data)
            .or_else(|| container::kind(data).map(|_| data.len() as u64 * 5))
    }
    #[cfg(not(feature = "gzip"))]
    {
        let _ = data;
        None
    }
}
