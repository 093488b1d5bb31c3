//! Whole-buffer encode and decode.

use crate::error::{Error, Result};
use crate::integrity::{Sha256, Sha256Digest};
use crate::options::{Backend, EncodeOptions, Encoded};
use crate::{pure, secondary, vcdiff};

/// Encodes `target` as a VCDIFF delta against `reference`.
///
/// With [`EncodeOptions::max_ratio`] set, returns [`Encoded::Exceeded`] as soon as the delta
/// grows past `max_ratio × target.len()`, after encoding at most one window past that point.
pub fn encode(reference: &[u8], target: &[u8], options: &EncodeOptions) -> Result<Encoded> {
    let limit = options.limit_for(target.len() as u64);
    let level = options.get_level();
    match options.get_backend() {
        Backend::Pure => pure::encode(reference, target, limit, level),
        #[cfg(all(feature = "native", not(target_arch = "wasm32")))]
        Backend::Native if options.get_threads() > 1 => {
            native_encode_parallel(reference, target, options)
        }
        Backend::Native => native_encode(reference, target, limit, level),
    }
}

/// Decodes `delta` against `reference`, which must produce exactly `expected_len` bytes.
///
/// The delta's framing is checked first, so a delta that claims more (or less) than
/// `expected_len` fails before anything is allocated for it.
///
/// Decodes with [`Backend::Pure`] on every platform: it is memory-safe Rust, and faster
/// than the C library here (its Adler-32 is vectorised). [`decode_with`] selects the
/// native decoder, for cross-checks.
pub fn decode(reference: &[u8], delta: &[u8], expected_len: u64) -> Result<Vec<u8>> {
    decode_with(Backend::Pure, reference, delta, expected_len)
}

/// [`decode`] with an explicit backend.
pub fn decode_with(
    backend: Backend,
    reference: &[u8],
    delta: &[u8],
    expected_len: u64,
) -> Result<Vec<u8>> {
    let delta = &*secondary::plain(delta, reference.len() as u64, expected_len)?;
    check_declared(reference, delta, expected_len)?;
    match backend {
        Backend::Pure => pure::decode(reference, delta, expected_len, None),
        Backend::Native => native_decode(reference, delta, expected_len),
    }
}

/// The length of the target `delta` describes, after checking its framing (for stored
/// objects whose metadata does not record their size).
pub fn declared_target_len(delta: &[u8]) -> Result<u64> {
    secondary::declared_len(delta)
}

/// Checks the framing of the whole delta and that it declares `expected_len` bytes.
pub(crate) fn check_declared(reference: &[u8], delta: &[u8], expected_len: u64) -> Result<()> {
    check_declared_len(reference.len() as u64, delta, expected_len)
}

/// [`check_declared`] for a reference known by its length.
pub(crate) fn check_declared_len(
    reference_len: u64,
    delta: &[u8],
    expected_len: u64,
) -> Result<()> {
    let declared = vcdiff::Windows::new(delta, reference_len)?.declared_len()?;
    if declared != expected_len {
        return Err(Error::LengthMismatch {
            expected: expected_len,
            actual: declared,
        });
    }
    Ok(())
}

/// [`decode`], then checks the SHA-256 of the result: bytes that differ from what was
/// stored are never returned.
pub fn decode_verified(
    reference: &[u8],
    delta: &[u8],
    expected_len: u64,
    expected_sha256: &Sha256Digest,
) -> Result<Vec<u8>> {
    decode_verified_with(
        Backend::Pure,
        reference,
        delta,
        expected_len,
        expected_sha256,
    )
}

/// [`decode_verified`] with an explicit backend.
pub fn decode_verified_with(
    backend: Backend,
    reference: &[u8],
    delta: &[u8],
    expected_len: u64,
    expected_sha256: &Sha256Digest,
) -> Result<Vec<u8>> {
    let (out, actual) = match backend {
        Backend::Pure => {
            // Hash each window right after decoding it, while it is still in cache.
            let delta = &*secondary::plain(delta, reference.len() as u64, expected_len)?;
            check_declared(reference, delta, expected_len)?;
            let mut hasher = Sha256::new();
            let out = pure::decode(reference, delta, expected_len, Some(&mut hasher))?;
            (out, hasher.finish())
        }
        Backend::Native => {
            let out = decode_with(backend, reference, delta, expected_len)?;
            let digest = Sha256::digest(&out);
            (out, digest)
        }
    };
    if actual != *expected_sha256 {
        return Err(Error::ChecksumMismatch {
            expected: *expected_sha256,
            actual,
        });
    }
    Ok(out)
}

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
fn native_encode(
    reference: &[u8],
    target: &[u8],
    limit: Option<u64>,
    level: u8,
) -> Result<Encoded> {
    crate::native::encode(reference, target, limit, level)
}

/// The smallest segment worth a thread of its own.
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
const MIN_SEGMENT: usize = 4 << 20;

/// [`native_encode`] on up to `threads` threads: equal segments of the target, each
/// against the whole reference, their windows concatenated (VCDIFF windows are
/// independent: each addresses the reference and its own target window only).
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
fn native_encode_parallel(
    reference: &[u8],
    target: &[u8],
    options: &EncodeOptions,
) -> Result<Encoded> {
    let limit = options.limit_for(target.len() as u64);
    let level = options.get_level();
    let segments = options.get_threads().min(target.len() / MIN_SEGMENT);
    if segments < 2 {
        return native_encode(reference, target, limit, level);
    }
    let size = target.len().div_ceil(segments);
    let parts: Vec<Result<Encoded>> = std::thread::scope(|scope| {
        let handles: Vec<_> = target
            .chunks(size)
            // Each segment may use the whole object's allowance: one segment that changed
            // a lot beside others that did not still makes a delta under the limit (checked
            // on the joined delta below).
            .map(|segment| scope.spawn(move || native_encode(reference, segment, limit, level)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or(Err(Error::Backend {
                    backend: Backend::Native,
                    code: -1,
                    message: "an encoder thread panicked",
                }))
            })
            .collect()
    });
    let mut delta: Vec<u8> = Vec::new();
    let mut header: Option<Vec<u8>> = None;
    for part in parts {
        let part = match part? {
            Encoded::Delta(part) => part,
            Encoded::Exceeded { .. } => {
                return Ok(Encoded::Exceeded {
                    limit: limit.unwrap_or(0),
                });
            }
        };
        let len = vcdiff::file_header(&part)?
            .ok_or(Error::Backend {
                backend: Backend::Native,
                code: -1,
                message: "the encoder wrote a truncated header",
            })?
            .len;
        match &header {
            None => {
                header = Some(part[..len].to_vec());
                delta.extend_from_slice(&part);
            }
            // The same encoder settings give the same header; anything else is not joined.
            Some(first) if first[..] == part[..len] => delta.extend_from_slice(&part[len..]),
            Some(_) => return native_encode(reference, target, limit, level),
        }
    }
    if limit.is_some_and(|l| delta.len() as u64 > l) {
        return Ok(Encoded::Exceeded {
            limit: limit.unwrap_or(0),
        });
    }
    Ok(Encoded::Delta(delta))
}

#[cfg(not(all(feature = "native", not(target_arch = "wasm32"))))]
fn native_encode(_: &[u8], _: &[u8], _: Option<u64>, _: u8) -> Result<Encoded> {
    Err(Error::BackendUnavailable(Backend::Native))
}

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
fn native_decode(reference: &[u8], delta: &[u8], expected_len: u64) -> Result<Vec<u8>> {
    // The C decoder gets only deltas whose instructions were walked and bounded in Rust.
    let windows = vcdiff::Windows::new(delta, reference.len() as u64)?;
    if windows.header.secondary {
        // Our build of xdelta3 has no secondary compressors and refuses a header that names
        // one, even though no window uses it (the framing check made sure of that).
        return pure::decode(reference, delta, expected_len, None);
    }
    for (index, window) in windows.enumerate() {
        let (window, bytes) = window?;
        window.check_instructions(bytes, index as u64)?;
    }
    crate::native::decode(reference, delta, expected_len)
}

#[cfg(not(all(feature = "native", not(target_arch = "wasm32"))))]
fn native_decode(_: &[u8], _: &[u8], _: u64) -> Result<Vec<u8>> {
    Err(Error::BackendUnavailable(Backend::Native))
}
