//! The one store path of the layer: PutObject, CopyObject and multipart completion hand
//! it an original, and it stores the original as a delta against the deltaspace's
//! reference when that is small enough, else whole.

use bytes::Bytes;
use deltaglider_codec::{Md5, Md5Digest};
use http::HeaderMap;

use super::cleanup;
use super::encode::{self, Encoding};
use super::written;
use crate::call::{Backend, Call, Stopped};
use crate::ledger::change;
use crate::ledger::figures::Figures;
use crate::refs::unused::{self, Named};
use crate::s3::time;
use crate::state::metrics::WholeReason;
use crate::stored::keys;
use crate::stored::meta::{Kind, ObjectMeta, RefInfo};

/// The bytes to store and what is known of them.
pub(crate) struct Original {
    /// The object's bytes.
    pub(crate) data: Bytes,
    /// Their MD5, when the caller already has it.
    pub(crate) md5: Option<Md5Digest>,
    /// The ETag of a multipart upload (`<hex>-<parts>`, unquoted), kept as the object's.
    pub(crate) multipart_etag: Option<String>,
    /// Verified client checksums (algorithm, base64), kept with the object.
    pub(crate) checksums: Vec<(&'static str, String)>,
}

impl Original {
    /// The ETag a plain S3 gives these bytes: the multipart upload's, else their MD5.
    fn plain_etag(&self) -> String {
        match (&self.multipart_etag, &self.md5) {
            (Some(etag), _) => etag.clone(),
            (None, Some(md5)) => md5.to_hex(),
            (None, None) => Md5::digest(&self.data).to_hex(),
        }
    }
}

/// What [`store_bytes`] stored.
pub(crate) struct Stored {
    /// The ETag of the original, quoted.
    pub(crate) etag: String,
    /// `delta` or `direct`.
    pub(crate) storage: &'static str,
}

impl Stored {
    /// Stored whole, with ETag `etag` (unquoted).
    fn direct(etag: &str) -> Self {
        Self {
            etag: format!("\"{etag}\""),
            storage: "direct",
        }
    }
}

/// Stores the original under `key`: as a delta against the deltaspace's reference when
/// that is small enough, else whole. `client` supplies the headers and metadata kept with
/// it.
pub(crate) async fn store_bytes<T: Backend>(
    call: Call<'_, T>,
    client: &HeaderMap,
    original: Original,
) -> Result<Stored, Stopped<T>> {
    let (stored, before, after) = store(call, client, original).await?;
    change::record(call, before, after).await;
    Ok(stored)
}

/// [`store_bytes`], with the savings ledger's figures of what was stored under the key
/// before (looked up while the original is encoded) and of what it stored.
async fn store<T: Backend>(
    call: Call<'_, T>,
    client: &HeaderMap,
    original: Original,
) -> Result<(Stored, Option<Figures>, Figures), Stopped<T>> {
    let Call {
        shared,
        bucket,
        key,
        ..
    } = call;
    if !shared.config.is_eligible(key) {
        // Not delta material: stored as it is, as a plain S3 would.
        let etag = original.plain_etag();
        let len = original.data.len() as u64;
        let before = change::stored_now(call, false).await;
        written::write(call, key, client, original.data, None).await?;
        shared
            .counters
            .stored_whole(bucket, len, WholeReason::NotEligible);
        let whole = Figures::object(len, len, false);
        return Ok((Stored::direct(&etag), before, whole));
    }
    // A completed multipart upload's whole form is already the new object.
    let before = change::stored_now(call, original.multipart_etag.is_some());
    let encoding = encode::encode(call, &original.data, original.md5);
    let (encoding, before) = futures_util::future::join(encoding, before).await;
    let encoding = encoding?;
    let (stored_key, body) = match (&encoding.delta, &original.multipart_etag) {
        (Some(delta), _) => (keys::delta_key(key), delta.clone()),
        (None, Some(etag)) => {
            // A completed multipart upload already sits whole under `key`, with the
            // backend's multipart ETag: keep it rather than write it again.
            cleanup::drop_older_delta(call).await?;
            let len = original.data.len() as u64;
            shared
                .counters
                .stored_whole(bucket, len, whole_reason(&encoding));
            let whole = Figures::object(len, len, false);
            return Ok((Stored::direct(etag), before, whole));
        }
        (None, None) => (key.to_owned(), original.data.clone()),
    };
    let object = describe(call, &original, &encoding);
    let stored_len = body.len();
    // The delta this write replaces: the reference it named may become unused.
    let replaced = match object.kind {
        Kind::Delta => unused::named_by(call, &stored_key).await,
        _ => Named::Nothing,
    };
    written::write(call, &stored_key, client, body, Some(&object)).await?;
    let storage = match object.kind {
        Kind::Delta => {
            if let Some(chosen) = &encoding.chosen {
                cleanup::after_delta(call, &stored_key, chosen, replaced).await?;
            }
            "delta"
        }
        _ => {
            cleanup::drop_older_delta(call).await?;
            "direct"
        }
    };
    let figures = account(call, &original, &encoding, &object, stored_len);
    let stored = Stored {
        etag: object.etag(),
        storage,
    };
    Ok((stored, before, figures))
}

/// Counts what was stored (the process's counters), logs it, and gives its figures for
/// the savings ledger: the object's own form, and a new reference beside it.
fn account<T: Backend>(
    call: Call<'_, T>,
    original: &Original,
    encoding: &Encoding,
    object: &ObjectMeta,
    stored_len: usize,
) -> Figures {
    let Call {
        shared,
        bucket,
        key,
        ..
    } = call;
    let len = original.data.len();
    let delta = object.kind == Kind::Delta;
    let (reference, reference_bytes) = match &encoding.new_reference {
        Some(r) if r.chained => ("delta", r.bytes),
        Some(r) => ("whole", r.bytes),
        None => ("none", 0),
    };
    let mut figures = Figures::object(len as u64, stored_len as u64, delta);
    if let Some(r) = &encoding.new_reference {
        figures.add(&Figures::reference(r.bytes));
    }
    if delta {
        shared
            .counters
            .stored_delta(bucket, len as u64, stored_len as u64, reference_bytes);
    } else {
        shared
            .counters
            .stored_whole(bucket, len as u64, whole_reason(encoding));
    }
    tracing::info!(
        bucket,
        key,
        original = len,
        stored = stored_len,
        storage = if delta { "delta" } else { "whole" },
        new_reference = reference,
        reference_bytes,
        reference_key = encoding.new_reference.as_ref().map(|r| r.key.as_str()),
        gzip_payload = object.payload_delta.is_some(),
        "stored"
    );
    figures
}

/// Why an eligible original encoded as `encoding` was stored whole.
fn whole_reason(encoding: &Encoding) -> WholeReason {
    if encoding.chosen.is_none() {
        WholeReason::NoReference
    } else {
        WholeReason::DeltaTooLarge
    }
}

/// DeltaGlider's metadata of `original` stored as `encoding` made it: a delta when there
/// is one, else whole.
fn describe<T: Backend>(call: Call<'_, T>, original: &Original, encoding: &Encoding) -> ObjectMeta {
    let Call { inner, key, .. } = call;
    let space = keys::deltaspace(key);
    // A delta always has its reference.
    let delta = encoding.delta.as_ref().zip(encoding.chosen.as_ref());
    ObjectMeta {
        kind: if delta.is_some() {
            Kind::Delta
        } else {
            Kind::Whole
        },
        tool: format!("deltaglider-rs/{}", env!("CARGO_PKG_VERSION")),
        file_sha256: encoding.sha256,
        file_size: Some(original.data.len() as u64),
        md5: Some(encoding.md5),
        multipart_etag: original.multipart_etag.clone(),
        created_at: time::rfc3339_micros(inner.now_micros()),
        original_name: Some(key[space.len()..].to_owned()),
        source_name: None,
        reference: delta.map(|(_, chosen)| RefInfo {
            key: chosen.key.clone(),
            sha256: chosen.reference.sha256,
        }),
        delta_size: delta.map(|(delta, _)| delta.len() as u64),
        ref_seq: 0,
        checksums: original
            .checksums
            .iter()
            .map(|(a, v)| ((*a).to_owned(), v.clone()))
            .collect(),
        payload_delta: encoding.payload_delta.filter(|_| delta.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_etag_is_the_multipart_one_else_the_md5() {
        let data = Bytes::from_static(b"hello");
        let original = |md5: Option<Md5Digest>, multipart_etag: Option<&str>| Original {
            data: data.clone(),
            md5,
            multipart_etag: multipart_etag.map(str::to_owned),
            checksums: Vec::new(),
        };
        let md5 = "5d41402abc4b2a76b9719d911017c592";
        assert_eq!(original(None, None).plain_etag(), md5);
        assert_eq!(original(Some(Md5::digest(&data)), None).plain_etag(), md5);
        assert_eq!(
            original(None, Some("0123456789abcdef0123456789abcdef-2")).plain_etag(),
            "0123456789abcdef0123456789abcdef-2"
        );
    }
}
