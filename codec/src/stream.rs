//! Streaming forms for objects too large to hold twice.
//!
//! Both are push-based and do no I/O: the caller feeds bytes and takes bytes, from whatever
//! transport it has. [`decode_stream`] wires the decoder to `std::io` for the simple case.

mod decoder;
mod encoder;

pub use decoder::StreamDecoder;
pub use encoder::{Step, StreamEncoder};

use std::io::{Read, Write};

use crate::error::{Error, Result};
use crate::integrity::Sha256Digest;
use crate::reference::ReferenceReader;

/// Decodes `delta` from a reader into `out`, window by window, reading the reference through
/// `reference`. Memory: one window of delta, its reference segment and its output.
///
/// Returns the SHA-256 of what was written. With `expected_sha256`, a mismatch is an error —
/// but bytes already written to `out` stay written: write to a temporary place and commit
/// only on `Ok`, or abort the transfer that `out` feeds.
pub fn decode_stream<R: ReferenceReader, D: Read, W: Write>(
    reference: &mut R,
    mut delta: D,
    expected_len: u64,
    expected_sha256: Option<Sha256Digest>,
    mut out: W,
) -> Result<Sha256Digest> {
    let mut decoder = StreamDecoder::new(reference.len(), expected_len);
    if let Some(sha) = expected_sha256 {
        decoder = decoder.expect_sha256(sha);
    }
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match delta.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(Error::Io {
                    context: "reading the delta",
                    source,
                });
            }
        };
        if n == 0 {
            break;
        }
        decoder.push(&chunk[..n])?;
        while let Some(window) = decoder.decode_next(reference)? {
            out.write_all(&window).map_err(|source| Error::Io {
                context: "writing the target",
                source,
            })?;
        }
    }
    decoder.finish()
}
