//! Loading references: from the cache, else from the backend, checked by SHA-256. A
//! reference stored as a delta of an older one (FORMAT.md section 14) is materialised: its
//! chain is read down to a cached or whole reference, then decoded back up, every link
//! checked by its own SHA-256 and cached.

use bytes::Bytes;
use deltaglider_codec::{Sha256, Sha256Digest};
use http::{Method, StatusCode};

use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::s3::error::S3Error;
use crate::state::cache::{CachedRef, Link};
use crate::stored::meta::{ObjectMeta, RefInfo};

/// A reference body with its SHA-256.
pub(crate) type Reference = CachedRef;

/// Chains longer than this are refused as damaged: writers keep them to about log₂ of the
/// number of references of a deltaspace (`crate::refs::chain`).
const MAX_CHAIN: usize = 40;

/// Loads a reference: from the cache, else from the backend. `Ok(None)` only when the
/// backend says it does not exist; any other failure is an error, never "absent".
pub(crate) async fn load<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    expected: Option<&Sha256Digest>,
) -> Result<Option<Reference>, Stopped<T>> {
    let Call { shared, bucket, .. } = call;
    let found = match shared.cache.get(bucket, ref_key) {
        Some(cached) => cached,
        None => match materialise(call, ref_key).await? {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    if let Some(expected) = expected.filter(|e| **e != found.sha256) {
        return Err(S3Error::internal(format!(
            "reference {ref_key} has SHA-256 {}, the delta was made against {expected}",
            found.sha256
        ))
        .into());
    }
    Ok(Some(found))
}

/// A link of a chain read but not yet decoded.
struct Pending {
    key: String,
    delta: Bytes,
    meta: ObjectMeta,
    base: RefInfo,
}

/// Reads `ref_key` and, if it is stored as a delta, its bases down to one that is cached or
/// whole; decodes back up. `None` when `ref_key` itself does not exist.
async fn materialise<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
) -> Result<Option<Reference>, Stopped<T>> {
    let Call { shared, bucket, .. } = call;
    let mut pending: Vec<Pending> = Vec::new();
    let mut key = ref_key.to_owned();
    let mut bottom = loop {
        let wanted = pending.last().map(|p| &p.base.sha256);
        if let Some(cached) = shared.cache.get(bucket, &key) {
            check_base(&key, &cached, wanted)?;
            break cached;
        }
        match read(call, &key).await? {
            Read::Missing if pending.is_empty() => return Ok(None),
            Read::Missing => {
                return Err(S3Error::internal(format!(
                    "reference {key}, the base of {}, is missing",
                    pending.last().map_or("", |p| p.key.as_str())
                ))
                .into());
            }
            Read::Whole(found) => {
                check_base(&key, &found, wanted)?;
                shared.cache.insert(bucket, &key, found.clone());
                break found;
            }
            Read::Delta(link) => {
                if pending.len() >= MAX_CHAIN {
                    return Err(S3Error::internal(format!(
                        "reference {ref_key} has a chain of more than {MAX_CHAIN} deltas"
                    ))
                    .into());
                }
                key = link.base.key.clone();
                pending.push(*link);
            }
        }
    };
    while let Some(link) = pending.pop() {
        bottom = decode_link(call, &bottom, link).await?;
    }
    Ok(Some(bottom))
}

/// A reference as the backend holds it.
enum Read {
    Missing,
    Whole(Reference),
    Delta(Box<Pending>),
}

/// GETs `key`: whole (hashed and checked against its recorded SHA-256) or a delta of a
/// base.
async fn read<T: Backend>(call: Call<'_, T>, key: &str) -> Result<Read, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let fetched = inner
        .fetch(
            inner.request(Method::GET, bucket, key, ""),
            Bytes::new(),
            shared.config.max_object_size,
        )
        .await?;
    if fetched.status == StatusCode::NOT_FOUND {
        return Ok(Read::Missing);
    }
    if !fetched.status.is_success() {
        return Err(pass_error(fetched));
    }
    // Metadata that does not parse (a legacy or foreign reference) leaves the body to be
    // checked as a whole reference, as it always was.
    if let Ok(meta) = ObjectMeta::parse(key, |name| fetched.meta(name))
        && let Some(base) = meta.reference.clone()
    {
        return Ok(Read::Delta(Box::new(Pending {
            key: key.to_owned(),
            delta: fetched.body,
            meta,
            base,
        })));
    }
    let sha256 = Sha256::digest(&fetched.body);
    if let Some(stored) = fetched.meta("dg-file-sha256")
        && stored.parse::<Sha256Digest>().ok() != Some(sha256)
    {
        return Err(S3Error::internal(format!(
            "reference {key} is corrupt: its SHA-256 is {sha256}, its metadata says {stored}"
        ))
        .into());
    }
    Ok(Read::Whole(Reference::new(fetched.body, sha256)))
}

/// Decodes one link against its materialised base, checks it by its recorded SHA-256 and
/// length, and caches it.
async fn decode_link<T: Backend>(
    call: Call<'_, T>,
    base: &Reference,
    link: Pending,
) -> Result<Reference, Stopped<T>> {
    let Call { shared, bucket, .. } = call;
    let Pending {
        key, delta, meta, ..
    } = link;
    let len = meta.file_size.unwrap_or(0);
    if len > shared.config.max_object_size {
        return Err(S3Error::internal(format!(
            "reference {key} is {len} bytes, over this proxy's object size limit"
        ))
        .into());
    }
    let source = base.bytes.clone();
    let decoded = shared
        .config
        .offload
        .run_or_fail(move || {
            deltaglider_codec::decode(&source, &delta, len)
                .map(|bytes| {
                    let sha256 = Sha256::digest(&bytes);
                    (Bytes::from(bytes), sha256)
                })
                .map_err(|e| e.to_string())
        })
        .await?;
    let (bytes, sha256) =
        decoded.map_err(|e| S3Error::internal(format!("reference {key} does not decode: {e}")))?;
    if sha256 != meta.file_sha256 || bytes.len() as u64 != len {
        return Err(S3Error::internal(format!(
            "reference {key} is corrupt: it decodes to SHA-256 {sha256}, its metadata says {}",
            meta.file_sha256
        ))
        .into());
    }
    let link = Link {
        base: Some(meta.reference.map(|r| r.key).unwrap_or_default()),
        seq: meta.ref_seq,
        depth: base.link.depth + 1,
    };
    let found = Reference::linked(bytes, sha256, link);
    shared.cache.insert(bucket, &key, found.clone());
    Ok(found)
}

/// A base must be what the reference chained onto it was made against.
fn check_base(key: &str, found: &Reference, wanted: Option<&Sha256Digest>) -> Result<(), S3Error> {
    match wanted {
        Some(wanted) if *wanted != found.sha256 => Err(S3Error::internal(format!(
            "reference {key} has SHA-256 {}, the reference chained onto it was made against {wanted}",
            found.sha256
        ))),
        _ => Ok(()),
    }
}
