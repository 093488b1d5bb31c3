//! The delta bytes a streamed reconstruction feeds its decoder: held in memory, or read
//! from a backend response as they arrive (a whole large delta, or the windows of a range)
//! — the one reader of backend bodies of known length in this module (window indexes and
//! large copy sources are read through it too).

use std::pin::Pin;

use bytes::Bytes;
use http_body_util::BodyExt;

use super::current::DeltaBytes;
use crate::body::BodyError;
use crate::call::Backend;

/// Delta bytes handed to the decoder at a time, so it never copies a held delta whole.
const PUSH: usize = 1 << 20;

/// Where the delta comes from, piece by piece.
pub(super) enum DeltaPieces<T: Backend> {
    /// All of it, in memory.
    Held(Bytes),
    /// `prefix` first (a delta's file header, when the body holds only some of its
    /// windows), then `len` bytes of `body` after skipping its first `skip`.
    Arriving {
        prefix: Bytes,
        body: Pin<Box<T::Reply>>,
        skip: u64,
        len: u64,
    },
}

impl<T: Backend> From<DeltaBytes<T>> for DeltaPieces<T> {
    /// All of a stored delta's bytes, as they were found.
    fn from(bytes: DeltaBytes<T>) -> Self {
        match bytes {
            DeltaBytes::Held(bytes) => DeltaPieces::Held(bytes),
            DeltaBytes::Arriving { body, len } => DeltaPieces::Arriving {
                prefix: Bytes::new(),
                body,
                skip: 0,
                len,
            },
        }
    }
}

impl<T: Backend> DeltaPieces<T> {
    /// The next piece; `None` at the end. A body that ends early is an error.
    pub(super) async fn next(&mut self) -> Result<Option<Bytes>, BodyError> {
        match self {
            DeltaPieces::Held(bytes) if bytes.is_empty() => Ok(None),
            DeltaPieces::Held(bytes) => Ok(Some(bytes.split_to(PUSH.min(bytes.len())))),
            DeltaPieces::Arriving { prefix, .. } if !prefix.is_empty() => {
                Ok(Some(std::mem::take(prefix)))
            }
            DeltaPieces::Arriving { len: 0, .. } => Ok(None),
            DeltaPieces::Arriving {
                body, skip, len, ..
            } => loop {
                let Some(frame) = body.frame().await else {
                    return Err(BodyError::new(format!(
                        "the backend's body ended {len} bytes early"
                    )));
                };
                let Ok(mut data) = frame.map_err(BodyError::new)?.into_data() else {
                    continue;
                };
                if *skip > 0 {
                    let n = (*skip).min(data.len() as u64);
                    *skip -= n;
                    let _ = data.split_to(n as usize);
                }
                data.truncate((*len).min(data.len() as u64) as usize);
                if data.is_empty() {
                    continue;
                }
                *len -= data.len() as u64;
                return Ok(Some(data));
            },
        }
    }
}
