//! The deflate engine: `preflate-rs`, which splits a deflate stream into its payload and
//! the corrections that let a predictor rebuild the exact original bits.
//!
//! A stream is first analysed whole: parameters estimated over all of it give the smallest
//! corrections, and some encoders (Node.js's zlib among them) are only reproduced that way.
//! When the engine fails on the whole stream, it is analysed again in chunks of about
//! [`CHUNK`] payload bytes: parameters are then estimated on the first chunk and later
//! chunks only record mispredictions, which rescues streams whose estimation fails
//! overall. The engine keeps every token of what it analyses at once, about 4 bytes of
//! memory per payload byte.
//!
//! `preflate-rs` is third-party code fed with untrusted corrections on the way back, so
//! every call into it is wrapped in `catch_unwind`: a panic inside it becomes an error
//! (where panics unwind; on `panic = "abort"` targets it still aborts).

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use preflate_rs::{ExitCode, PreflateConfig, PreflateStreamProcessor, RecreateStreamProcessor};

/// Engine 2, what is written: corrections from `preflate-rs` 0.7.6 plus Chromium zlib's
/// hash as a candidate (the vendored, patched crate, `vendor/README.md`).
pub(super) const ENGINE: u8 = 2;
/// The engines read: 1 (`preflate-rs` 0.7.6 as released) and 2, which reads engine-1
/// corrections unchanged (the patch only adds a hash).
pub(crate) const ENGINES: [u8; 2] = [1, ENGINE];

/// Payload bytes per chunk (the engine stops at the first block boundary past it).
pub(super) const CHUNK: usize = 8 << 20;

/// A member's deflate stream, analysed: its chunks and how many compressed bytes it took.
pub(super) struct Analysed {
    /// Per chunk: payload length and the engine's corrections.
    pub(super) chunks: Vec<(u64, Vec<u8>)>,
    /// Length of the deflate stream in the input.
    pub(super) consumed: usize,
}

/// Analyses the deflate stream at the start of `deflate`, appending its payload to
/// `payload`. `None` when the stream is not valid deflate, would push `payload` past
/// `max_payload` bytes, or cannot be reproduced by the engine.
pub(super) fn analyse(
    deflate: &[u8],
    payload: &mut Vec<u8>,
    max_payload: usize,
) -> Option<Analysed> {
    let start = payload.len();
    for chunk_limit in [usize::MAX, CHUNK] {
        let run = catch_unwind(AssertUnwindSafe(|| {
            analyse_in_chunks(deflate, payload, max_payload, chunk_limit)
        }));
        match run {
            Ok(Ok(analysed)) => return Some(analysed),
            Ok(Err(Failure::Input)) => return None,
            Ok(Err(Failure::Engine)) | Err(_) => payload.truncate(start),
        }
    }
    None
}

/// Why an analysis failed: the input itself, or the engine (worth another try in chunks).
enum Failure {
    Input,
    Engine,
}

fn analyse_in_chunks(
    deflate: &[u8],
    payload: &mut Vec<u8>,
    max_payload: usize,
    chunk_limit: usize,
) -> Result<Analysed, Failure> {
    let room = max_payload
        .checked_sub(payload.len())
        .ok_or(Failure::Input)?;
    let config = PreflateConfig {
        // The caller verifies the whole file end to end; the engine's own per-chunk check
        // would double the work.
        verify_compression: false,
        // One byte more than the room left, so a stream that fills it exactly still ends.
        plain_text_limit: chunk_limit.min(room.saturating_add(1)),
        ..PreflateConfig::default()
    };
    let mut engine = PreflateStreamProcessor::new(&config);
    let mut consumed = 0;
    let mut chunks = Vec::new();
    while !engine.is_done() {
        let rest = deflate.get(consumed..).ok_or(Failure::Input)?;
        let chunk = engine.decompress(rest).map_err(|e| match e.exit_code() {
            ExitCode::ShortRead
            | ExitCode::InvalidDeflate
            | ExitCode::NonZeroPadding
            | ExitCode::PlainTextLimit
            | ExitCode::ReadDeflate => Failure::Input,
            _ => Failure::Engine,
        })?;
        let text = engine.plain_text().text();
        if chunk.compressed_size == 0 || payload.len() + text.len() > max_payload {
            return Err(Failure::Input);
        }
        let plain_len = text.len() as u64;
        payload.extend_from_slice(text);
        engine.shrink_to_dictionary();
        consumed += chunk.compressed_size;
        chunks.push((plain_len, chunk.corrections));
    }
    Ok(Analysed { chunks, consumed })
}

/// Rebuilds a member's deflate stream from its chunks (payload piece, corrections),
/// appending it to `out`.
pub(super) fn recreate<'a>(
    chunks: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    out: &mut Vec<u8>,
) -> Result<(), (usize, String)> {
    let mut engine = RecreateStreamProcessor::new();
    for (i, (plain, corrections)) in chunks.enumerate() {
        let result = catch_unwind(AssertUnwindSafe(|| {
            engine.recompress(&mut Cursor::new(plain), corrections)
        }));
        match result {
            Ok(Ok((bytes, _blocks))) => out.extend_from_slice(&bytes),
            Ok(Err(e)) => return Err((i, format!("{:?}: {}", e.exit_code(), e.message()))),
            Err(_) => return Err((i, "the deflate engine panicked".to_owned())),
        }
    }
    Ok(())
}
