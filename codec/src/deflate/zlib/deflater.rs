//! The encoder state shared by the strategies, and level 0.

use super::bits::BitWriter;
use super::params::{Strategy, Tuning, ZlibParams, tuning};
use super::trees::{Blocks, stored_block};
use super::window::Window;

/// Longest stored block.
const MAX_STORED: usize = 65535;

/// One deflate run over all of the input: window, block under construction, output.
pub(super) struct Deflater<'a, 'o> {
    pub(super) win: Window<'a>,
    pub(super) blocks: Blocks,
    pub(super) out: &'o mut BitWriter<'a>,
    pub(super) tuning: Tuning,
    pub(super) strategy: Strategy,
}

impl<'a, 'o> Deflater<'a, 'o> {
    /// The state `deflateInit2` + `deflateReset` set up (levels 1–9).
    pub(super) fn new(input: &'a [u8], p: &ZlibParams, out: &'o mut BitWriter<'a>) -> Self {
        Self {
            win: Window::new(input, p.effective_window_bits(), p.hash_bits(), p.flavor),
            blocks: Blocks::new(p.block_symbols(), p.strategy == Strategy::Fixed),
            out,
            tuning: tuning(p.level),
            strategy: p.strategy,
        }
    }

    /// Writes the block from `block_start` to `strstart` (zlib's `FLUSH_BLOCK_ONLY`).
    /// Returns `false` when the output no longer agrees with the expected stream.
    pub(super) fn flush_block(&mut self, last: bool) -> bool {
        let win = &mut self.win;
        let len = (win.strstart as isize - win.block_start) as usize;
        let stored = usize::try_from(win.block_start)
            .ok()
            .map(|s| &win.buf[s..s + len]);
        self.blocks.flush_block(self.out, stored, len, last);
        win.block_start = win.strstart as isize;
        self.out.check()
    }
}

/// Level 0 with all input at once and an output buffer large enough for it: zlib's
/// `deflate_stored` then copies the input straight to the output in blocks of 65 535
/// bytes, the last one (possibly empty, for empty input) marked final.
///
/// zlib ≥ 1.2.9 cuts stored blocks where its caller's input and output buffers end, so
/// a stream written with small buffers has other block boundaries; those are not
/// reproduced here.
pub(super) fn store_all(input: &[u8], out: &mut BitWriter<'_>) {
    let mut chunks = input.chunks(MAX_STORED).peekable();
    if chunks.peek().is_none() {
        stored_block(out, &[], true);
    }
    while let Some(chunk) = chunks.next() {
        stored_block(out, chunk, chunks.peek().is_none());
        if !out.check() {
            return;
        }
    }
}
