//! zlib's deflate, ported to safe Rust so that it produces the same bytes: madler zlib
//! 1.2.12–1.3.1, Chromium's fork (Node.js, and so every npm tarball) and zlib's
//! ancestor in GNU gzip (the `gzip` command, and so `tar czf`; [`Flavor::Gnu`]).
//!
//! [`compress`] writes raw deflate (no zlib or gzip wrapper) exactly as
//! `deflateInit2(level, Z_DEFLATED, -window_bits, mem_level, strategy)` followed by
//! `deflate(Z_FINISH)` writes it. [`agreement`] runs the same encoder against an existing
//! stream and stops at the first block that differs, so trying a wrong guess of the
//! parameters costs about one block of work.
//!
//! ```
//! use deltaglider_codec::deflate::zlib::{Flavor, ZlibParams, agreement, compress};
//!
//! let text = b"the quick brown fox jumps over the lazy dog; ".repeat(100);
//! let params = ZlibParams::new(6, Flavor::Zlib);
//! let mut stream = Vec::new();
//! compress(&text, &params, &mut stream);
//! assert!(agreement(&text, &params, &stream).exact);
//! ```
//!
//! # Input chunking
//!
//! For levels 1–9 zlib's output depends neither on how the caller split the input
//! between `deflate(Z_NO_FLUSH)` calls nor on the size of its output buffers (a full
//! output buffer only pauses the loops): the match loops stop and resume only while the
//! lookahead is short of a longest match plus one string (`MIN_LOOKAHEAD`), where every
//! decision still sees the same bytes, and blocks end where the symbol buffer fills, not
//! where calls end. (The one exception zlib leaves is a window slide at a position where
//! a chunk ended and a match at distance exactly `MAX_DIST` would start at window index
//! 0, which zlib treats as the end of a chain; this port slides where a single call
//! would.) Level 0 is different: since zlib 1.2.9 `deflate_stored` cuts blocks where
//! the caller's buffers end. This port models all input in one call with an output
//! buffer large enough for all of it: blocks of 65 535 bytes. (Python's `compressobj`
//! and Node's `zlib` hand deflate smaller output buffers, so their level-0 streams have
//! other block boundaries.)
//!
//! # Checked against
//!
//! madler zlib as libz-sys bundles it (1.3.1 with later fixes that do not touch the
//! encoder) live in the tests, on every parameter combination; Python's zlib 1.2.13 and
//! Node 20's Chromium zlib 1.3.1-e00f703 through hashes of their output; real npm
//! tarballs (Chromium, level 9), Python sdists (level 9) and wheels (level 6) byte for
//! byte (`docs/benchmarks.md`).
//!
//! GNU gzip reads its input into a fixed 64 KiB window with whole-file reads; its
//! output does not depend on how the input arrives either (a file or a pipe give the
//! same bytes).
//!
//! Any other flush (`Z_SYNC_FLUSH`, `Z_FULL_FLUSH`, …), `deflateParams` or a preset
//! dictionary in the middle of the stream is not modelled.

mod bits;
mod deflater;
mod gnu;
mod huffman;
mod matcher;
mod params;
mod strategies;
mod tables;
mod trees;
mod window;

pub use params::{Flavor, Strategy, ZlibParams};

use bits::BitWriter;
use deflater::{Deflater, store_all};

/// How much of an existing stream an encoder reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// Leading bytes of the stream the encoder wrote identically.
    pub prefix: usize,
    /// Whether it wrote the whole stream and nothing more.
    pub exact: bool,
}

/// Appends to `out` the raw deflate stream zlib writes for all of `input` with `p`.
///
/// # Panics
///
/// If `p` is not [valid](ZlibParams::is_valid).
pub fn compress(input: &[u8], p: &ZlibParams, out: &mut Vec<u8>) {
    let mut w = BitWriter::new(out, None);
    encode(input, p, &mut w);
}

/// Encodes `input` with `p` while comparing with `original`, stopping after the first
/// flushed block whose bytes differ. Returns how many leading bytes of `original` were
/// reproduced, and whether all of it was, exactly.
///
/// # Panics
///
/// If `p` is not [valid](ZlibParams::is_valid).
pub fn agreement(input: &[u8], p: &ZlibParams, original: &[u8]) -> Agreement {
    let mut scratch = Vec::new();
    let mut w = BitWriter::new(&mut scratch, Some(original));
    encode(input, p, &mut w);
    let (prefix, exact) = w.agreement();
    Agreement { prefix, exact }
}

fn encode<'a>(input: &'a [u8], p: &ZlibParams, w: &mut BitWriter<'a>) {
    assert!(p.is_valid(), "zlib rejects {p:?}");
    if p.level == 0 {
        store_all(input, w);
    } else if p.flavor == Flavor::Gnu {
        Deflater::new(input, p, w).run_gnu(p.level);
    } else {
        Deflater::new(input, p, w).run(p.level);
    }
}
