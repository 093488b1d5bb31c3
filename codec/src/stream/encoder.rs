//! Encoding a target that arrives in pieces.

use crate::error::{Error, Result};
use crate::options::{Backend, EncodeOptions};
use crate::pure::{self, CappedSink, PureEncoder};
use crate::vcdiff::MAGIC;

/// What a [`StreamEncoder`] call achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// All is well; keep pushing (or, after `finish`, the delta is complete).
    Continue,
    /// The delta passed the cap; stop and store the target whole.
    Exceeded {
        /// The cap that was hit.
        limit: u64,
    },
}

/// Encodes a target pushed in pieces against an in-memory reference.
///
/// Delta bytes are appended to the caller's buffer as windows complete, so memory is the
/// reference, its index, and one chunk of target (8 MiB for the pure backend,
/// [`EncodeOptions::chunk_size`] for the native one).
///
/// ```
/// use deltaglider_codec::{decode, EncodeOptions, Step, StreamEncoder};
/// let reference = vec![7u8; 100_000];
/// let mut target = reference.clone();
/// target[500] = 8;
/// let mut encoder = StreamEncoder::new(&reference, &EncodeOptions::default().max_ratio(0.5),
///     Some(target.len() as u64));
/// let mut delta = Vec::new();
/// for piece in target.chunks(4096) {
///     assert_eq!(encoder.push(piece, &mut delta)?, Step::Continue);
/// }
/// assert_eq!(encoder.finish(&mut delta)?, Step::Continue);
/// assert_eq!(decode(&reference, &delta, target.len() as u64)?, target);
/// # Ok::<(), deltaglider_codec::Error>(())
/// ```
pub struct StreamEncoder<'r> {
    engine: Engine<'r>,
    limit: Option<u64>,
    target_len: Option<u64>,
    consumed: u64,
    emitted: u64,
    done: bool,
}

enum Engine<'r> {
    Pure {
        // Boxed: the match engine's state dwarfs the native variant.
        encoder: Option<Box<PureEncoder<'r>>>,
        sink: CappedSink,
    },
    #[cfg_attr(
        not(all(feature = "native", not(target_arch = "wasm32"))),
        allow(dead_code)
    )]
    Native {
        reference: &'r [u8],
        pending: Vec<u8>,
        chunk_size: usize,
        level: u8,
        header_written: bool,
    },
}

impl std::fmt::Debug for StreamEncoder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamEncoder")
            .field("limit", &self.limit)
            .field("consumed", &self.consumed)
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

impl<'r> StreamEncoder<'r> {
    /// An encoder against `reference`. The cap of [`EncodeOptions::max_ratio`] applies only
    /// when `target_len` is known; a known `target_len` is also checked at the end.
    pub fn new(reference: &'r [u8], options: &EncodeOptions, target_len: Option<u64>) -> Self {
        let limit = target_len.and_then(|len| options.limit_for(len));
        let engine = match options.get_backend() {
            Backend::Native if Backend::Native.is_available() => Engine::Native {
                reference,
                pending: Vec::new(),
                chunk_size: options.get_chunk_size(),
                level: options.get_level(),
                header_written: false,
            },
            _ => Engine::Pure {
                encoder: Some(Box::new(PureEncoder::new(
                    reference,
                    target_len,
                    options.get_level(),
                ))),
                sink: CappedSink::new(limit, 0),
            },
        };
        Self {
            engine,
            limit,
            target_len,
            consumed: 0,
            emitted: 0,
            done: false,
        }
    }

    /// Feeds the next piece of target; appends any finished delta bytes to `out`.
    pub fn push(&mut self, target: &[u8], out: &mut Vec<u8>) -> Result<Step> {
        if self.done {
            return Err(Error::Finished("stream encoder"));
        }
        self.consumed += target.len() as u64;
        if let Some(expected) = self.target_len.filter(|&len| self.consumed > len) {
            self.done = true;
            return Err(Error::LengthMismatch {
                expected,
                actual: self.consumed,
            });
        }
        let step = self.run(Some(target), out);
        self.settle(step)
    }

    /// Encodes what is left and appends the end of the delta to `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<Step> {
        if self.done {
            return Err(Error::Finished("stream encoder"));
        }
        if let Some(expected) = self.target_len.filter(|&len| len != self.consumed) {
            return Err(Error::LengthMismatch {
                expected,
                actual: self.consumed,
            });
        }
        let step = self.run(None, out);
        self.settle(step)
    }

    fn settle(&mut self, step: Result<Step>) -> Result<Step> {
        if !matches!(step, Ok(Step::Continue)) {
            self.done = true;
        }
        step
    }

    /// Pushes `target`, or finishes when it is `None`.
    fn run(&mut self, target: Option<&[u8]>, out: &mut Vec<u8>) -> Result<Step> {
        let limit = self.limit;
        match &mut self.engine {
            Engine::Pure { encoder, sink } => {
                let result = match target {
                    Some(bytes) => encoder
                        .as_mut()
                        .ok_or(Error::Finished("stream encoder"))?
                        .push(bytes, sink),
                    None => encoder
                        .take()
                        .ok_or(Error::Finished("stream encoder"))?
                        .finish(sink),
                };
                if result.is_err() {
                    return pure::encode_failure(sink, limit).map(|_| Step::Exceeded {
                        limit: limit.unwrap_or(0),
                    });
                }
                self.emitted += sink.buf.len() as u64;
                out.append(&mut sink.buf);
                Ok(Step::Continue)
            }
            Engine::Native {
                reference,
                pending,
                chunk_size,
                level,
                header_written,
            } => {
                let finishing = target.is_none();
                let mut input = target.unwrap_or_default();
                loop {
                    let chunk: &[u8] = if pending.is_empty() && input.len() >= *chunk_size {
                        // Encode straight from the caller's slice when nothing is pending.
                        let (now, rest) = input.split_at(*chunk_size);
                        input = rest;
                        now
                    } else if pending.len() + input.len() >= *chunk_size {
                        let (now, rest) = input.split_at(*chunk_size - pending.len());
                        pending.extend_from_slice(now);
                        input = rest;
                        pending
                    } else if finishing && (!pending.is_empty() || !*header_written) {
                        // The last chunk; for an empty target, the header and no windows.
                        pending
                    } else {
                        pending.extend_from_slice(input);
                        return Ok(Step::Continue);
                    };
                    let room = limit.map(|l| l.saturating_sub(self.emitted));
                    let Some(delta) = native_chunk(reference, chunk, room, *level)? else {
                        return Ok(Step::Exceeded {
                            limit: limit.unwrap_or(0),
                        });
                    };
                    const HEADER: [u8; 5] = [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], 0];
                    if delta.get(..HEADER.len()) != Some(&HEADER[..]) {
                        return Err(Error::Backend {
                            backend: Backend::Native,
                            code: 0,
                            message: "unexpected file header",
                        });
                    }
                    // Each call writes a whole VCDIFF file; later chunks contribute only
                    // their windows, which are self-contained against the full reference.
                    let body = if *header_written {
                        &delta[HEADER.len()..]
                    } else {
                        &delta[..]
                    };
                    *header_written = true;
                    self.emitted += body.len() as u64;
                    out.extend_from_slice(body);
                    pending.clear();
                }
            }
        }
    }
}

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
fn native_chunk(
    reference: &[u8],
    chunk: &[u8],
    room: Option<u64>,
    level: u8,
) -> Result<Option<Vec<u8>>> {
    Ok(crate::native::encode(reference, chunk, room, level)?.into_delta())
}

#[cfg(not(all(feature = "native", not(target_arch = "wasm32"))))]
fn native_chunk(_: &[u8], _: &[u8], _: Option<u64>, _: u8) -> Result<Option<Vec<u8>>> {
    Err(Error::BackendUnavailable(Backend::Native))
}
