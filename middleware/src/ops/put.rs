//! The store path: PutObject of an eligible key becomes a delta or a whole object.

use std::cmp::Ordering;

use bytes::Bytes;
use deltaglider_codec::{EncodeOptions, Encoded, Md5, Md5Digest, Sha256, Sha256Digest};
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, request::Parts};

use crate::body::{Either, RequestBody};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::{ByteBody, Stop, pass_error};
use crate::refs::choose::{self, Chosen};
use crate::refs::create;
use crate::refs::renew;
use crate::refs::unused;
use crate::refs::unused::Named;
use crate::s3::checksum;
use crate::s3::error::S3Error;
use crate::s3::length::content_length;
use crate::s3::time;
use crate::state::metrics::Stopwatch;
use crate::state::shared::Shared;
use crate::stored::current::{self, Written};
use crate::stored::keys;
use crate::stored::meta::{self, Kind, ObjectMeta, RefInfo};
use crate::stored::meta::{add_metadata, header_value};
use crate::stored::payload;

/// Client headers stored with the object, as S3 would store them.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-language",
    "expires",
    "x-amz-tagging",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
];

/// Handles PutObject.
pub(crate) async fn put<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call {
        shared, inner, key, ..
    } = call;
    keys::check_user_key(key).map_err(S3Error::from)?;
    meta::check_client_metadata(&parts.headers).map_err(S3Error::from)?;
    let config = &shared.config;
    let declared = content_length(&parts.headers);
    let eligible = config.is_eligible(key);
    if !eligible || declared.is_some_and(|n| n > config.max_object_size) {
        let response = inner
            .send(Request::from_parts(parts, body))
            .await
            .map_err(Stop::Inner)?;
        if eligible && response.status().is_success() {
            // Too large to encode, so stored whole.
            drop_older_delta(call).await?;
        }
        return Ok(response.map(Either::passthrough));
    }

    // The body is plain and verified (the ingest in front, or the layer's own).
    let (data, trailers) = collect_with_trailers(body, config.max_object_size).await?;
    if let Some(n) = declared.filter(|&n| n != data.len() as u64) {
        return Err(S3Error::new(
            "IncompleteBody",
            StatusCode::BAD_REQUEST,
            format!(
                "the body has {} bytes, the request declared {n}",
                data.len()
            ),
        )
        .into());
    }
    // Content-MD5 and checksums were verified by the ingest; the MD5 (the ETag) is computed
    // while encoding, and the checksums are kept with the object.
    let checksums = checksum::sent(&parts.headers, &trailers);
    let original = Original {
        data,
        md5: None,
        multipart_etag: None,
        checksums,
    };
    let stored = store_bytes(call, &parts.headers, original).await?;
    let mut response = Response::new(Either::empty());
    let headers = response.headers_mut();
    headers.insert(header::ETAG, header_value(&stored.etag)?);
    headers.insert(
        "x-amz-storage-type",
        HeaderValue::from_static(stored.storage),
    );
    Ok(response)
}

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

/// Called when an eligible key was just stored whole outside [`store_bytes`]: an older
/// delta of it must not stay beside the new bytes, and the reference it named goes if
/// nothing needs it any more.
pub(crate) async fn drop_older_delta<T: Backend>(call: Call<'_, T>) -> Result<(), Stopped<T>> {
    let Call { key, .. } = call;
    let released = remove_stale(call, Kind::Whole).await?;
    unused::after_replace(call, keys::deltaspace(key), &released, None).await;
    Ok(())
}

/// Removes the other stored form of `key` once `kept` is written — unless that other form
/// was written strictly later (a concurrent writer's: readers pick it, `crate::stored::current`).
/// Returns what a removed delta named.
async fn remove_stale<T: Backend>(call: Call<'_, T>, kept: Kind) -> Result<Named, Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let delta_key = keys::delta_key(key);
    let (kept_key, stale_key) = match kept {
        Kind::Delta => (delta_key.as_str(), key),
        _ => (key, delta_key.as_str()),
    };
    let stale = inner.head(bucket, stale_key).await?;
    if stale.status == StatusCode::NOT_FOUND {
        return Ok(Named::Nothing);
    }
    if !stale.status.is_success() {
        return Err(pass_error(stale));
    }
    let ours = inner.head(bucket, kept_key).await?;
    if ours.status == StatusCode::NOT_FOUND {
        // Deleted meanwhile: the other form is all there is, leave it.
        return Ok(Named::Nothing);
    }
    if !ours.status.is_success() {
        return Err(pass_error(ours));
    }
    let (ours_at, stale_at) = (Written::of(&ours.headers), Written::of(&stale.headers));
    let stale_is_later = match kept {
        Kind::Delta => current::order(&ours_at, &stale_at) == Ordering::Greater,
        _ => current::order(&stale_at, &ours_at) == Ordering::Less,
    };
    if stale_is_later {
        return Ok(Named::Nothing);
    }
    inner.remove_stored(bucket, stale_key).await?;
    Ok(match kept {
        Kind::Delta => Named::Nothing,
        _ => Named::from_head(stale_key, &stale),
    })
}

/// What [`store_bytes`] stored.
pub(crate) struct Stored {
    /// The ETag of the original, quoted.
    pub(crate) etag: String,
    /// `delta` or `direct`.
    pub(crate) storage: &'static str,
}

/// Stores the original under `key`: as a delta against the deltaspace's reference when that
/// is small enough, else whole. `client` supplies the headers and metadata kept with it.
/// The one store path of the layer: PutObject, CopyObject and multipart uploads use it.
pub(crate) async fn store_bytes<T: Backend>(
    call: Call<'_, T>,
    client: &HeaderMap,
    original: Original,
) -> Result<Stored, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let config = &shared.config;
    let Original {
        data,
        md5,
        multipart_etag,
        checksums,
    } = original;
    if !config.is_eligible(key) {
        // Not delta material: stored as it is, as a plain S3 would.
        let mut request = inner.request(Method::PUT, bucket, key, "");
        if let Some(headers) = request.headers_mut() {
            copy_client_headers(client, headers);
        }
        let etag =
            multipart_etag.unwrap_or_else(|| md5.unwrap_or_else(|| Md5::digest(&data)).to_hex());
        let stored = inner.fetch(request, data, 64 << 10).await?;
        if !stored.status.is_success() {
            return Err(pass_error(stored));
        }
        return Ok(Stored {
            etag: format!("\"{etag}\""),
            storage: "direct",
        });
    }
    let space = keys::deltaspace(key);
    let mut chosen = choose::choose(call, &data).await?;
    let options = EncodeOptions::default()
        .backend(config.backend)
        .level(config.level)
        .threads(config.encode_threads)
        .max_ratio(config.max_delta_ratio);
    let stopwatch = Stopwatch::start();
    // A delta must at least spell out what it cannot copy: a target sharing a share `s` of
    // its sketch with the reference gives a delta of about `1 - s` of its size. Far below
    // the bar (four times more lenient than that estimate), encoding is skipped.
    let hopeless = chosen
        .similarity
        .is_some_and(|s| s < (1.0 - config.max_delta_ratio) / 4.0);
    let limit = (data.len() as f64 * config.max_delta_ratio) as u64;
    let mut gzip = None;
    let (mut encoded, sha256, md5) = if hopeless {
        tracing::debug!(similarity = ?chosen.similarity, "too little shared with the reference: not encoding");
        let target = data.clone();
        let (sha256, md5) = offloaded(shared, move || hash(&target, md5)).await?;
        (Ok(Encoded::Exceeded { limit }), sha256, md5)
    } else if chosen.by_payload && !chosen.same_bytes {
        let (reference, target) = (chosen.reference.clone(), data.clone());
        let (max, ratio) = (config.max_payload_size, config.max_delta_ratio);
        let (outcome, sha256, md5) = offloaded(shared, move || {
            let (sha256, md5) = hash(&target, md5);
            let outcome = match reference.payload(max) {
                Some(payload) => {
                    let max = usize::try_from(max).unwrap_or(usize::MAX);
                    payload::encode(payload, &target, &options, ratio, max)
                }
                None => Ok(payload::Outcome::Unsupported),
            };
            (outcome, sha256, md5)
        })
        .await?;
        let encoded = match outcome.map_err(S3Error::internal)? {
            payload::Outcome::Delta { body, info } => {
                gzip = Some(info);
                Encoded::Delta(body)
            }
            payload::Outcome::Exceeded { limit } => Encoded::Exceeded { limit },
            // Its compressed bytes share nothing with the reference's (the payloads were
            // compared): stored whole.
            payload::Outcome::Unsupported => Encoded::Exceeded { limit },
        };
        (Ok(encoded), sha256, md5)
    } else {
        let (reference, target) = (chosen.reference.bytes.clone(), data.clone());
        offloaded(shared, move || {
            encode_and_hash(&reference, &target, &options, md5)
        })
        .await?
    };
    let ratio = match &encoded {
        Ok(Encoded::Delta(delta)) => Some(delta.len() as f64 / data.len().max(1) as f64),
        _ => None,
    };
    if encoded.is_ok()
        && renew::rebaseline_due(shared, bucket, &chosen, data.len(), ratio)
        && let Some(renewed) = renew::new_reference(
            call,
            &data,
            &sha256,
            chosen.count,
            // Renewals follow the cost model; an object resembling nothing is under the cap.
            ratio.is_none(),
        )
        .await?
    {
        chosen = renewed;
        gzip = None;
        let (reference, target) = (chosen.reference.bytes.clone(), data.clone());
        encoded = offloaded(shared, move || {
            deltaglider_codec::encode(&reference, &target, &options)
        })
        .await?;
    }
    let Chosen {
        key: ref_key,
        reference,
        ..
    } = chosen;
    let encoded = encoded.map_err(|e| S3Error::internal(format!("delta encoding failed: {e}")))?;
    let (stored_key, body, kind) = match encoded {
        Encoded::Delta(delta) if gzip.is_some() => {
            // `payload::encode` decoded it again already.
            shared.counters.encoded(stopwatch.micros());
            (keys::delta_key(key), Bytes::from(delta), Kind::Delta)
        }
        Encoded::Delta(delta) => {
            // Never store what cannot be read back: a codec bug must not lose data. The
            // original is at hand, so comparing bytes beats hashing them again.
            let delta = Bytes::from(delta);
            let (source, checked, target) = (reference.bytes.clone(), delta.clone(), data.clone());
            let same = offloaded(shared, move || {
                deltaglider_codec::decode(&source, &checked, target.len() as u64)
                    .map(|back| back == target)
            })
            .await?
            .map_err(|e| S3Error::internal(format!("delta failed verification: {e}")))?;
            if !same {
                return Err(S3Error::internal(
                    "delta failed verification: it decodes to other bytes",
                )
                .into());
            }
            shared.counters.encoded(stopwatch.micros());
            (keys::delta_key(key), delta, Kind::Delta)
        }
        Encoded::Exceeded { .. } => {
            if let Some(etag) = &multipart_etag {
                // A completed multipart upload already sits whole under `key`, with the
                // backend's multipart ETag: keep it rather than write it again.
                let released = remove_stale(call, Kind::Whole).await?;
                unused::after_replace(call, space, &released, None).await;
                return Ok(Stored {
                    etag: format!("\"{etag}\""),
                    storage: "direct",
                });
            }
            (key.to_owned(), data.clone(), Kind::Whole)
        }
    };
    let object = ObjectMeta {
        kind,
        tool: format!("deltaglider-rs/{}", env!("CARGO_PKG_VERSION")),
        file_sha256: sha256,
        file_size: Some(data.len() as u64),
        md5: Some(md5),
        multipart_etag,
        created_at: time::rfc3339_micros(inner.now_micros()),
        original_name: Some(key[space.len()..].to_owned()),
        source_name: None,
        reference: (kind == Kind::Delta).then(|| RefInfo {
            key: ref_key.clone(),
            sha256: reference.sha256,
        }),
        delta_size: (kind == Kind::Delta).then_some(body.len() as u64),
        checksums: checksums
            .iter()
            .map(|(a, v)| ((*a).to_owned(), v.clone()))
            .collect(),
        gzip: gzip.filter(|_| kind == Kind::Delta),
    };
    let stored_len = body.len();
    // The delta this write replaces: the reference it named may become unused.
    let replaced = match kind {
        Kind::Delta => unused::named_by(call, &stored_key).await,
        _ => Named::Nothing,
    };
    let mut request = inner.request(Method::PUT, bucket, &stored_key, "");
    if let Some(headers) = request.headers_mut() {
        copy_client_headers(client, headers);
        add_metadata(headers, &object)?;
        if kind == Kind::Whole {
            // The body is the original: the backend can check and keep the checksums too.
            for (algorithm, value) in &checksums {
                headers.insert(
                    HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes())
                        .map_err(|e| S3Error::internal(e.to_string()))?,
                    header_value(value)?,
                );
            }
        }
    }
    let stored = inner.fetch(request, body, 64 << 10).await?;
    if !stored.status.is_success() {
        return Err(pass_error(stored));
    }
    if kind == Kind::Delta && !create::ensure_after_write(call, &ref_key, key, &reference).await? {
        // Another upload re-seeded the deltaspace with different bytes while this one was
        // encoding: this delta is useless. Remove it; the client's retry encodes afresh.
        let _ = inner.delete_stored(bucket, &stored_key).await?;
        shared.cache.remove(bucket, &ref_key);
        return Err(S3Error::new(
            "SlowDown",
            StatusCode::SERVICE_UNAVAILABLE,
            "the deltaspace's reference changed during the upload; retry",
        )
        .into());
    }
    // The other form of this key, if an earlier write left one, goes (readers would pick
    // this one anyway: it is newer); so does a reference no delta names any more.
    let removed = remove_stale(call, kind).await?;
    let (released, now) = match kind {
        Kind::Delta => (replaced, Some(ref_key.as_str())),
        _ => (removed, None),
    };
    unused::after_replace(call, space, &released, now).await;
    let storage = if kind == Kind::Delta {
        "delta"
    } else {
        "direct"
    };
    shared.counters.stored(
        bucket,
        data.len() as u64,
        stored_len as u64,
        kind == Kind::Delta,
    );
    tracing::info!(
        bucket,
        key,
        original = data.len(),
        stored = stored_len,
        storage,
        gzip_payload = object.gzip.is_some(),
        "stored"
    );
    Ok(Stored {
        etag: object.etag(),
        storage,
    })
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

/// Reads a plain body whole, with the checksum a streamed body passes on as a trailer.
async fn collect_with_trailers<B, E, RB>(
    body: B,
    limit: u64,
) -> Result<(Bytes, Vec<(String, String)>), Stop<E, RB>>
where
    B: ByteBody,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut data = bytes::BytesMut::new();
    let mut trailers = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            S3Error::new(
                "IncompleteBody",
                StatusCode::BAD_REQUEST,
                format!("reading the body failed: {}", e.into()),
            )
        })?;
        match frame.into_data() {
            Ok(piece) => {
                if (data.len() + piece.len()) as u64 > limit {
                    return Err(S3Error::new(
                        "EntityTooLarge",
                        StatusCode::BAD_REQUEST,
                        format!("the body is larger than {limit} bytes"),
                    )
                    .into());
                }
                data.extend_from_slice(&piece);
            }
            Err(frame) => {
                let Ok(more) = frame.into_trailers() else {
                    continue;
                };
                trailers.extend(more.iter().filter_map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                }));
            }
        }
    }
    Ok((data.freeze(), trailers))
}

pub(crate) fn copy_client_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        let name_str = name.as_str();
        if KEPT_HEADERS.contains(&name_str) || name_str.starts_with("x-amz-meta-") {
            to.append(name.clone(), value.clone());
        }
    }
    if let Some(encoding) = from
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    {
        let kept: Vec<&str> = encoding
            .split(',')
            .map(str::trim)
            .filter(|e| !e.eq_ignore_ascii_case("aws-chunked") && !e.is_empty())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&kept.join(", "))
            && !kept.is_empty()
        {
            to.insert(header::CONTENT_ENCODING, value);
        }
    }
}
