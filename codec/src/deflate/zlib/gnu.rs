//! GNU gzip's match-finding loops (`deflate_fast` for levels 1–3, `deflate` for 4–9) and
//! its block cutting (`ct_tally`). They are zlib's loops before zlib added its end-of-input
//! guards: every position is inserted into the hash chains, even the last two whose
//! strings run past the data, and `nice_match` is not clipped to the lookahead.

use super::deflater::Deflater;
use super::matcher::{TOO_FAR, longest_match};
use super::window::{MIN_MATCH, NIL};

/// gzip weighs cutting the block early each time this many symbols are tallied.
const CUT_CHECK: usize = 4096;

impl Deflater<'_, '_> {
    /// Compresses all input as `gzip -level` does (`lm_init`, then `deflate`).
    pub(super) fn run_gnu(&mut self, level: u8) {
        self.win.gnu_fill();
        if level <= 3 {
            self.gnu_fast(level);
        } else {
            self.gnu_lazy(level);
        }
    }

    /// Whether the string at `strstart` may look for a match starting at `hash_head`.
    #[inline]
    fn gnu_may_match(&self, hash_head: usize) -> bool {
        hash_head != usize::from(NIL)
            && self.win.strstart - hash_head <= self.win.max_dist()
            && self.win.gnu_can_match()
    }

    /// `ct_tally`'s verdict after a symbol was added at input position `strstart`: the
    /// block is full, or (above level 2) gzip's estimate says cutting it here pays.
    fn gnu_cut(&self, full: bool, level: u8, strstart: usize) -> bool {
        if level > 2 && self.blocks.symbols().is_multiple_of(CUT_CHECK) {
            // gzip's `block_start` is a signed long: a block that started before the
            // last slide covers more than `strstart` bytes.
            let in_length = (strstart as i64 - self.win.block_start as i64) as u64;
            if self.blocks.gnu_cut_pays(in_length) {
                return true;
            }
        }
        full
    }

    fn gnu_tally_lit(&mut self, c: u8, level: u8, strstart: usize) -> bool {
        let full = self.blocks.tally_lit(c);
        self.gnu_cut(full, level, strstart)
    }

    fn gnu_tally_dist(&mut self, dist: usize, len: usize, level: u8, strstart: usize) -> bool {
        let full = self.blocks.tally_dist(dist, len);
        self.gnu_cut(full, level, strstart)
    }

    /// Greedy matching; the strings inside a match are inserted only if it is at most
    /// `max_lazy` long.
    fn gnu_fast(&mut self, level: u8) {
        let t = self.tuning;
        while self.win.lookahead != 0 {
            let s = self.win.strstart;
            let hash_head = usize::from(self.win.insert_string(s));
            let mut match_length = 0;
            if self.gnu_may_match(hash_head) {
                match_length =
                    longest_match(&mut self.win, hash_head, MIN_MATCH - 1, &t, t.nice_length);
            }
            let flush = if match_length >= MIN_MATCH {
                let dist = s - self.win.match_start;
                let flush = self.gnu_tally_dist(dist, match_length, level, s);
                self.win.lookahead -= match_length;
                if match_length <= t.max_lazy {
                    for _ in 1..match_length {
                        self.win.strstart += 1;
                        self.win.insert_string(self.win.strstart);
                    }
                    self.win.strstart += 1;
                } else {
                    self.win.strstart += match_length;
                }
                flush
            } else {
                let flush = self.gnu_tally_lit(self.win.buf[s], level, s);
                self.win.lookahead -= 1;
                self.win.strstart += 1;
                flush
            };
            if flush && !self.flush_block(false) {
                return;
            }
            self.win.gnu_fill();
        }
        self.flush_block(true);
    }

    /// Lazy matching: a match is taken only if the next position has no longer one.
    fn gnu_lazy(&mut self, level: u8) {
        let t = self.tuning;
        let mut match_length = MIN_MATCH - 1;
        let mut match_available = false;
        while self.win.lookahead != 0 {
            let s = self.win.strstart;
            let hash_head = usize::from(self.win.insert_string(s));
            let prev_length = match_length;
            let prev_match = self.win.match_start;
            match_length = MIN_MATCH - 1;
            if prev_length < t.max_lazy && self.gnu_may_match(hash_head) {
                match_length =
                    longest_match(&mut self.win, hash_head, prev_length, &t, t.nice_length);
                if match_length == MIN_MATCH && s.wrapping_sub(self.win.match_start) > TOO_FAR {
                    match_length -= 1;
                }
            }
            if prev_length >= MIN_MATCH && match_length <= prev_length {
                let dist = s.wrapping_sub(1).wrapping_sub(prev_match);
                let flush = self.gnu_tally_dist(dist, prev_length, level, s);
                self.win.lookahead -= prev_length - 1;
                for _ in 0..prev_length - 2 {
                    self.win.strstart += 1;
                    self.win.insert_string(self.win.strstart);
                }
                match_available = false;
                match_length = MIN_MATCH - 1;
                self.win.strstart += 1;
                if flush && !self.flush_block(false) {
                    return;
                }
            } else if match_available {
                let flush = self.gnu_tally_lit(self.win.buf[s - 1], level, s);
                if flush && !self.flush_block(false) {
                    return;
                }
                self.win.strstart += 1;
                self.win.lookahead -= 1;
            } else {
                match_available = true;
                self.win.strstart += 1;
                self.win.lookahead -= 1;
            }
            self.win.gnu_fill();
        }
        if match_available {
            self.blocks.tally_lit(self.win.buf[self.win.strstart - 1]);
        }
        self.flush_block(true);
    }
}
