//! VCDIFF delta encoding for DeltaGlider.
//!
//! `deltaglider-codec` turns a *target* into a compact *delta* against a similar
//! *reference*, and back. It is sans-IO: bytes in, bytes out; no async runtime, no HTTP.
//!
//! Deltas are standard VCDIFF (RFC 3284) with xdelta3's per-window Adler-32 and **no**
//! secondary compression, so the two backends decode each other's output byte for byte and
//! the `xdelta3 -d` command decodes both:
//!
//! | backend | feature | targets | used for |
//! |---|---|---|---|
//! | [`Backend::Native`]: the xdelta3 C library | `native` (default) | all but wasm32 | encoding: much smaller deltas on repetitive data |
//! | [`Backend::Pure`]: `oxidelta` | always | all, wasm32 included | decoding everywhere; encoding on wasm32 |
//!
//! Every delta is validated by a strict framing parser before any backend sees it, which
//! bounds memory by one window (16 MiB) whatever lengths a hostile delta claims.
//!
//! # Example
//!
//! ```
//! use deltaglider_codec::{decode_verified, encode, EncodeOptions, Encoded, Sha256};
//!
//! let v1: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
//! let mut v2 = v1.clone();
//! v2[12_345..12_350].copy_from_slice(b"patch");
//!
//! // Give up early if the delta would be more than half the size of v2.
//! let options = EncodeOptions::default().max_ratio(0.5);
//! let Encoded::Delta(delta) = encode(&v1, &v2, &options)? else {
//!     panic!("similar inputs give a small delta");
//! };
//! assert!(delta.len() < 200);
//!
//! let restored = decode_verified(&v1, &delta, v2.len() as u64, &Sha256::digest(&v2))?;
//! assert_eq!(restored, v2);
//! # Ok::<(), deltaglider_codec::Error>(())
//! ```
//!
//! For objects too large to hold twice, [`StreamEncoder`] takes the target in pieces and
//! [`StreamDecoder`] emits the target window by window, reading the reference through
//! [`ReferenceReader`] (memory, a file, or ranged reads).
//!
//! With the `gzip` feature (default; pure Rust, wasm32 included), `container::unpack` splits
//! a gzip file or zip archive into its decompressed payload and a small recipe that
//! `container::repack` turns back into the exact original bytes, so deltas can be taken
//! between payloads.
//! With the `zip` feature (enabled by `gzip`; no dependencies, wasm32 included),
//! `zip::regions` cuts a zip archive (`.zip`, `.jar`, `.whl`, …) into its members' deflate
//! streams and the raw bytes around them.
//! [`deflate::zlib`] (same feature) re-runs zlib's and Chromium's deflate bit for bit.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "gzip")]
mod bz2;
#[cfg(feature = "gzip")]
mod coder;
#[cfg(feature = "gzip")]
pub mod container;
#[cfg(feature = "gzip")]
pub mod deflate;
mod error;
mod index;
mod integrity;
mod memory;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
mod native;
mod options;
mod pure;
mod range;
mod reference;
mod secondary;
mod sketch;
mod stream;
mod vcdiff;
mod windowed;
#[cfg(feature = "gzip")]
mod xz;
#[cfg(feature = "zip")]
pub mod zip;

pub use error::{Error, Result};
pub use index::{IndexBuilder, IndexedWindow, WindowIndex};
pub use integrity::{Md5, Md5Digest, ParseDigestError, Sha256, Sha256Digest};
pub use memory::{
    declared_target_len, decode, decode_verified, decode_verified_with, decode_with, encode,
};
pub use options::{Backend, EncodeOptions, Encoded};
pub use range::{decode_range, decode_range_from, range_reads};
#[cfg(unix)]
pub use reference::FileReference;
pub use reference::ReferenceReader;
pub use sketch::Sketch;
pub use stream::{Step, StreamDecoder, StreamEncoder, decode_stream};
pub use vcdiff::MAX_WINDOW;
pub use windowed::{ChunkPlan, EncodedChunk, WindowedEncoder, identity_delta};
