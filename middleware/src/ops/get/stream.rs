//! The body of a GET of a delta-stored object, reconstructed window by window while it is
//! sent: the whole object, or the windows covering a range of it.
//!
//! Memory per response: the delta (held whole when it is small — at most
//! [`HOLD`](super::current::HOLD) — else read as it arrives), the decoder's copy of one
//! window of it, one window of output (at
//! most [`MAX_WINDOW`](deltaglider_codec::MAX_WINDOW), 16 MiB) and the reference bytes that
//! window reads (its source segment, or [`READ_AHEAD`](super::source::READ_AHEAD) when that
//! is larger; briefly twice that while the read-ahead buffer is extended). Nothing grows
//! with the object.
//!
//! Every window's Adler-32 is checked before the window is sent; the SHA-256 of the whole
//! output is checked at the end (of a whole object; a range is checked by its windows'
//! Adler-32 and their total length). The last byte of each window is held back until the next
//! window (or the final check) succeeds, so a failure always leaves the body short and ends
//! it with an error: the server aborts the response and the client never sees it complete.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use deltaglider_codec::{Sha256Digest, StreamDecoder};
use futures_util::stream;

use super::delta::{cannot_reconstruct, declared_len, reference_of};
use super::pieces::DeltaPieces;
use super::source::{self, RefSource};
use crate::body::{BodyError, Streamed};
use crate::call::{Backend, Call, Stopped};
use crate::state::metrics::Stopwatch;
use crate::state::shared::Shared;
use crate::stored::meta::ObjectMeta;

struct State<T: Backend> {
    shared: Arc<Shared>,
    key: String,
    decoder: Option<StreamDecoder>,
    delta: DeltaPieces<T>,
    source: RefSource<T>,
    /// Bytes the decoder produces in all.
    decoded: u64,
    /// The decoded bytes that are sent; the rest are dropped.
    sent: Range<u64>,
    /// The held-back last byte of the latest window.
    held: Option<Bytes>,
    /// Pieces ready to send, in order (at most two: a held byte and a window).
    queue: VecDeque<Bytes>,
    /// Windows decoded so far.
    windows: u64,
    decode_micros: u64,
}

/// What a streamed reconstruction produces.
pub(super) struct Output {
    /// Bytes the delta's windows produce.
    pub(super) decoded: u64,
    /// The SHA-256 of those bytes, when they are the whole object.
    pub(super) sha256: Option<Sha256Digest>,
    /// The decoded bytes sent; the others are decoded (and checked) but dropped.
    pub(super) sent: Range<u64>,
}

/// The whole original of `call.key`, `total` bytes, as a body produced while it is sent.
/// A held delta whose header is unreadable or declares another length fails now, as an
/// error response, rather than after the headers are sent.
pub(super) async fn whole<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: DeltaPieces<T>,
    total: u64,
) -> Result<Streamed, Stopped<T>> {
    if let DeltaPieces::Held(bytes) = &delta {
        let declared = declared_len(call.key, bytes)?;
        if declared != total {
            let mismatch = format!("the delta declares {declared} bytes, the metadata {total}");
            return Err(cannot_reconstruct(call.key, mismatch).into());
        }
    }
    let output = Output {
        decoded: total,
        sha256: Some(meta.file_sha256),
        sent: 0..total,
    };
    decoded(call, meta, delta, output).await
}

/// The `output.sent` bytes of what `delta` decodes to, as a body produced while it is
/// sent. The reference's identity is checked before (a failure is an error response); the
/// object's bytes while streaming (a failure aborts the body).
///
/// The first window is decoded before this returns, so a failure there (a reference that
/// cannot be read, a corrupt first window) is an error response rather than an aborted
/// body; an output of one window is verified whole — SHA-256 included — before its
/// headers go out.
pub(super) async fn decoded<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: DeltaPieces<T>,
    output: Output,
) -> Result<Streamed, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let ref_info = reference_of(key, meta)?;
    let source = source::open(call, &ref_info.key, &ref_info.sha256).await?;
    let mut decoder = source.decoder(output.decoded);
    if let Some(sha256) = output.sha256 {
        decoder = decoder.expect_sha256(sha256);
    }
    let len = output.sent.end - output.sent.start;
    let mut state = State {
        shared: Arc::clone(shared),
        key: key.to_owned(),
        decoder: Some(decoder),
        delta,
        source,
        decoded: output.decoded,
        sent: output.sent,
        held: None,
        queue: VecDeque::new(),
        windows: 0,
        decode_micros: 0,
    };
    state
        .prime()
        .await
        .map_err(|e| cannot_reconstruct(key, e))?;
    Ok(state.into_body(len))
}

impl<T: Backend> State<T> {
    /// The rest of the output, `len` bytes in all, as a body that ends with an error at
    /// the first failure.
    fn into_body(self, len: u64) -> Streamed {
        let pieces = stream::unfold(self, |mut state| async move {
            match state.step().await {
                Ok(Some(piece)) => Some((Ok(piece), state)),
                Ok(None) => None,
                Err(error) => {
                    tracing::warn!(key = state.key, %error, "aborting a reconstructed response");
                    // A failed decoder refuses every later call: the stream ends after this.
                    state.decoder = None;
                    state.held = None;
                    state.queue.clear();
                    Some((Err(error), state))
                }
            }
        });
        Streamed::new(Box::pin(pieces), len)
    }

    /// Decodes the first window, and finishes (verifies) when it was the only one.
    async fn prime(&mut self) -> Result<(), BodyError> {
        while self.windows == 0 && self.decoder.is_some() {
            self.advance().await?;
        }
        while self
            .decoder
            .as_ref()
            .is_some_and(|d| d.produced() == self.decoded)
        {
            self.advance().await?;
        }
        Ok(())
    }

    /// The next piece to send; `None` once the output is complete and verified.
    async fn step(&mut self) -> Result<Option<Bytes>, BodyError> {
        loop {
            if let Some(piece) = self.queue.pop_front() {
                return Ok(Some(piece));
            }
            if self.decoder.is_none() {
                return Ok(None);
            }
            self.advance().await?;
        }
    }

    /// One unit of work: feed the decoder, decode a window, or finish.
    async fn advance(&mut self) -> Result<(), BodyError> {
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(());
        };
        let failed = |e: deltaglider_codec::Error| BodyError::new(e);
        match decoder.ready().map_err(failed)? {
            Some(range) => {
                let segment = self.source.read(range).await?;
                let stopwatch = Stopwatch::start();
                let window = decoder.decode_ready(&segment).map_err(failed)?;
                self.decode_micros += stopwatch.micros();
                self.windows += 1;
                let produced = decoder.produced();
                let window = self.trimmed(window, produced);
                let Some(&last) = window.last() else {
                    return Ok(());
                };
                // The byte held back from the window before is now safe to send.
                self.queue.extend(self.held.take());
                let mut window = window;
                window.truncate(window.len() - 1);
                if !window.is_empty() {
                    self.queue.push_back(window);
                }
                // A copy, so that holding it does not keep the whole window alive.
                self.held = Some(Bytes::copy_from_slice(&[last]));
            }
            None => match self.delta.next().await? {
                Some(piece) => decoder.push(&piece).map_err(failed)?,
                None => {
                    if let Some(decoder) = self.decoder.take() {
                        let produced = decoder.produced();
                        decoder.finish().map_err(failed)?;
                        self.shared.counters.decoded(self.decode_micros, produced);
                        self.queue.extend(self.held.take());
                    }
                }
            },
        }
        Ok(())
    }

    /// The part of `window`, whose last byte is decoded byte `end - 1`, that is sent.
    fn trimmed(&self, window: Vec<u8>, end: u64) -> Bytes {
        let start = end - window.len() as u64;
        let from = self.sent.start.clamp(start, end) - start;
        let to = self.sent.end.clamp(start, end) - start;
        Bytes::from(window).slice(from as usize..to as usize)
    }
}
