//! The body of a full GET of a delta-stored object, reconstructed window by window while
//! it is sent.
//!
//! Memory per response: the delta (held whole, at most `max_object_size ×
//! max_delta_ratio`, plus the decoder's copy of one window of it), one window of output (at
//! most [`MAX_WINDOW`](deltaglider_codec::MAX_WINDOW), 16 MiB) and the reference bytes that
//! window reads (its source segment, or [`READ_AHEAD`](super::source::READ_AHEAD) when that
//! is larger; briefly twice that while the read-ahead buffer is extended). Nothing grows
//! with the object.
//!
//! Every window's Adler-32 is checked before the window is sent; the SHA-256 of the whole
//! output is checked at the end. The last byte of each window is held back until the next
//! window (or the final check) succeeds, so a failure always leaves the body short and ends
//! it with an error: the server aborts the response and the client never sees it complete.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use deltaglider_codec::StreamDecoder;
use futures_util::stream;

use super::delta::{cannot_reconstruct, declared_len, reference_of};
use super::source::{self, RefSource};
use crate::body::{BodyError, Streamed};
use crate::call::{Backend, Call, Stopped};
use crate::state::metrics::Stopwatch;
use crate::state::shared::Shared;
use crate::stored::meta::ObjectMeta;

/// Delta bytes handed to the decoder at a time, so it never copies the whole delta.
const PUSH: usize = 1 << 20;

struct State<T: Backend> {
    shared: Arc<Shared>,
    key: String,
    decoder: Option<StreamDecoder>,
    delta: Bytes,
    source: RefSource<T>,
    /// The held-back last byte of the latest window.
    held: Option<Bytes>,
    /// Pieces ready to send, in order (at most two: a held byte and a window).
    queue: VecDeque<Bytes>,
    /// Windows decoded so far.
    windows: u64,
    decode_micros: u64,
}

/// The whole original of `call.key`, `total` bytes, as a body produced while it is sent.
/// The reference's identity is checked before (a failure is an error response); the
/// object's bytes while streaming (a failure aborts the body).
///
/// The first window is decoded before this returns, so a failure there (a reference that
/// cannot be read, a corrupt first window) is an error response rather than an aborted
/// body; an object of one window is verified whole — SHA-256 included — before its
/// headers go out.
pub(super) async fn whole<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: Bytes,
    total: u64,
) -> Result<Streamed, Stopped<T>> {
    let Call { shared, key, .. } = call;
    let ref_info = reference_of(key, meta)?;
    // A delta whose header is unreadable or declares another length fails now, as an
    // error response, rather than after the headers are sent.
    let declared = declared_len(key, &delta)?;
    if declared != total {
        let mismatch = format!("the delta declares {declared} bytes, the metadata {total}");
        return Err(cannot_reconstruct(key, mismatch).into());
    }
    let source = source::open(call, &ref_info.key, &ref_info.sha256).await?;
    let mut state = State {
        shared: Arc::clone(shared),
        key: key.to_owned(),
        decoder: Some(source.decoder(total, meta.file_sha256)),
        delta,
        source,
        held: None,
        queue: VecDeque::new(),
        windows: 0,
        decode_micros: 0,
    };
    state
        .prime()
        .await
        .map_err(|e| cannot_reconstruct(key, e))?;
    Ok(state.into_body(total))
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
        if let Some(decoder) = self.decoder.as_mut()
            && self.delta.is_empty()
            && decoder.ready().map_err(BodyError::new)?.is_none()
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
                let Some(&last) = window.last() else {
                    return Ok(());
                };
                // The byte held back from the window before is now safe to send.
                self.queue.extend(self.held.take());
                let mut window = Bytes::from(window);
                window.truncate(window.len() - 1);
                if !window.is_empty() {
                    self.queue.push_back(window);
                }
                // A copy, so that holding it does not keep the whole window alive.
                self.held = Some(Bytes::copy_from_slice(&[last]));
            }
            None if !self.delta.is_empty() => {
                let piece = self.delta.split_to(PUSH.min(self.delta.len()));
                decoder.push(&piece).map_err(failed)?;
            }
            None => {
                if let Some(decoder) = self.decoder.take() {
                    decoder.finish().map_err(failed)?;
                    self.shared.counters.decoded(self.decode_micros);
                    self.queue.extend(self.held.take());
                }
            }
        }
        Ok(())
    }
}
