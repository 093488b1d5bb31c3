//! Making an original a reference itself after it was encoded (`crate::refs::renew` says
//! when): whole, or as a link of a chain (`crate::refs::chain`); and, for an original
//! that became a whole reference while a concurrent upload made a similar one first,
//! encoding it against that one instead.

use bytes::Bytes;
use deltaglider_codec::{EncodeOptions, Encoded, Sketch};

use deltaglider_codec::Md5Digest;

use super::attempt::{
    Attempt, Payload, attempt, encode_and_hash, min_similarity, offloaded, payload_only, verified,
};
use crate::call::{Backend, Call, Stopped};
use crate::refs::chain;
use crate::refs::choose::{self, Chosen};
use crate::refs::load::Reference;
use crate::refs::renew::{self, Renewal};
use crate::refs::unused;
use crate::stored::keys;

/// Before any other encoding: when the chosen reference would itself be the base of a
/// reference made from the original (`chain::base_for`), the original's delta of the bytes
/// against it is what both need — the link if the original becomes a reference, its own
/// delta if it does not. Encoded once, here (a container's payload delta is not tried:
/// the link must be of the bytes). `None` when this does not apply or no delta of the
/// bytes comes under the limit; the caller then encodes as usual.
pub(super) async fn linked_first<T: Backend>(
    call: Call<'_, T>,
    chosen: &Chosen,
    data: &Bytes,
    md5: Option<Md5Digest>,
    options: EncodeOptions,
) -> Result<Option<(Chosen, Attempt, Option<NewReference>)>, Stopped<T>> {
    let Call { shared, .. } = call;
    if !renew::eligible(shared, chosen, data.len()) {
        return Ok(None);
    }
    let Some(base) = chain::base_for(call, &chosen.key, &chosen.reference).await? else {
        return Ok(None);
    };
    if base.key != chosen.key {
        return Ok(None);
    }
    let floor = min_similarity(&shared.config);
    let by_payload = chosen.by_payload;
    if !by_payload && chosen.similarity.is_some_and(|s| s < floor) {
        return Ok(None);
    }
    let (reference, target) = (chosen.reference.clone(), data.clone());
    let options = options.max_ratio(shared.config.max_delta_ratio);
    let encoded = offloaded(shared, move || {
        // A container compared by its payload may share little as bytes.
        if by_payload && shares_too_little(&target, &reference, floor) {
            return None;
        }
        Some(encode_and_hash(&reference.bytes, &target, &options, md5))
    })
    .await?;
    let Some((Ok(Encoded::Delta(delta)), sha256, md5)) = encoded else {
        return Ok(None);
    };
    let ratio = delta.len() as f64 / data.len().max(1) as f64;
    let own = |delta: Vec<u8>| Attempt {
        encoded: Ok(Encoded::Delta(delta)),
        payload_delta: None,
        sha256,
        md5,
    };
    if ratio < renew::MIN_DRIFT {
        return Ok(Some((chosen.clone(), own(delta), None)));
    }
    if by_payload {
        let kept = payload_rented(call, chosen, data, md5, options, delta.len()).await?;
        if kept.is_some() {
            return Ok(kept);
        }
    }
    let link = verified(shared, &chosen.reference, delta, data).await?;
    let Some((renewed, written)) = link_to(call, chosen, data, &sha256, &link, &base).await? else {
        return Ok(Some((chosen.clone(), own(link.to_vec()), None)));
    };
    Ok(Some((
        renewed,
        identity(shared, data, own(Vec::new())).await?,
        Some(written),
    )))
}

/// A compressed container's payload delta `P` can be far smaller than any delta of its
/// bytes, which is what a link `L` (`link_len`) costs: a solid stream (gzip, bzip2, xz)
/// edited early differs from the edit on, so `L` can be hundreds of times `P`; zip
/// members are compressed apart, and `L` stays within a small factor. Whether a link pays
/// depends on versions to come (encoded against it, a later version may cost far less
/// than against the older reference, or not), so the rule is the ski-rental one: payload
/// deltas are "rented" until what they cost against this reference — the versions seen so
/// far (the renewal hints) and this one — reaches the link's price, then the link is
/// "bought". Until then the payload delta is kept (returned here), and the cost model
/// decides on a renewal as for any payload delta; `None` buys the link.
async fn payload_rented<T: Backend>(
    call: Call<'_, T>,
    chosen: &Chosen,
    data: &Bytes,
    md5: Md5Digest,
    options: EncodeOptions,
    link_len: usize,
) -> Result<Option<(Chosen, Attempt, Option<NewReference>)>, Stopped<T>> {
    let shared = call.shared;
    let Payload::Done(payload) = payload_only(shared, chosen, data, Some(md5), options).await?
    else {
        return Ok(None);
    };
    let Ok(Encoded::Delta(body)) = &payload.encoded else {
        return Ok(None);
    };
    let spent: f64 = shared.hints.history(call.bucket, &chosen.key).iter().sum();
    let rent = (spent * data.len() as f64) as usize + body.len();
    if rent >= link_len {
        return Ok(None);
    }
    renewed(call, chosen.clone(), data, payload, options)
        .await
        .map(Some)
}

/// Makes `data` (SHA-256 `sha256`) a reference stored as `delta`, a verified delta of
/// `base`; the reference to encode `data` against now, and what was written. `None` when
/// a different object holds its name.
async fn link_to<T: Backend>(
    call: Call<'_, T>,
    chosen: &Chosen,
    data: &Bytes,
    sha256: &deltaglider_codec::Sha256Digest,
    delta: &Bytes,
    base: &chain::Base,
) -> Result<Option<(Chosen, NewReference)>, Stopped<T>> {
    let Call { key, .. } = call;
    let ref_key = keys::content_reference_key(keys::deltaspace(key), sha256);
    let new = chain::NewLink {
        key: &ref_key,
        source_key: key,
        data,
        sha256,
        delta,
    };
    let Some(reference) = chain::create_link(call, &new, base).await? else {
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
        seeded: false,
    };
    Ok(Some((renewed, written)))
}

/// `attempt` with the original's delta against a reference holding exactly its bytes.
async fn identity<E, RB>(
    shared: &crate::state::shared::Shared,
    data: &Bytes,
    attempt: Attempt,
) -> Result<Attempt, crate::inner::Stop<E, RB>> {
    let target = data.clone();
    let delta = offloaded(shared, move || deltaglider_codec::identity_delta(&target)).await?;
    Ok(Attempt {
        encoded: Ok(Encoded::Delta(delta)),
        payload_delta: None,
        ..attempt
    })
}

/// Makes the original a reference itself when the cost model says so (`crate::refs::renew`)
/// — whole, or as a delta of an older reference — and encodes it again against that one;
/// otherwise `chosen` and `attempt` as they were.
pub(super) async fn renewed<T: Backend>(
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
    let attempt = identity(shared, data, attempt).await?;
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
    let Call { shared, .. } = call;
    let delta = match (budget, &attempt.encoded) {
        (None, Ok(Encoded::Delta(delta))) => delta.clone(),
        (Some(budget), _) => {
            let ratio = budget.min(shared.config.max_delta_ratio);
            let (reference, target) = (base.reference.clone(), data.clone());
            let options = options.max_ratio(ratio);
            let floor = min_similarity(&shared.config);
            let encoded = offloaded(shared, move || {
                if shares_too_little(&target, &reference, floor) {
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
    link_to(call, chosen, data, &attempt.sha256, &delta, &base).await
}

/// Whether `target` shares less than `floor` of its bytes' sketch with `reference`: no
/// delta of the bytes could come under the limit (compressed containers, say). Known at
/// memory speed, before an encode would find out.
fn shares_too_little(target: &[u8], reference: &Reference, floor: f64) -> bool {
    Sketch::of(target)
        .similarity(reference.sketch())
        .is_some_and(|s| s < floor)
}
