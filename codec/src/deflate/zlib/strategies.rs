//! zlib's match-finding loops: `deflate_fast` (levels 1–3), `deflate_slow` (lazy
//! matching, levels 4–9), `deflate_rle` and `deflate_huff`, for all input at once with
//! `Z_FINISH`. They return early when the output stops agreeing with the expected stream.

use super::deflater::Deflater;
use super::matcher::{TOO_FAR, longest_match};
use super::params::Strategy;
use super::window::{MAX_MATCH, MIN_LOOKAHEAD, MIN_MATCH, NIL};

impl Deflater<'_, '_> {
    /// Picks the loop as `deflate()` does.
    pub(super) fn run(&mut self, level: u8) {
        match self.strategy {
            Strategy::HuffmanOnly => self.deflate_huff(),
            Strategy::Rle => self.deflate_rle(),
            _ if level <= 3 => self.deflate_fast(),
            _ => self.deflate_slow(),
        }
    }

    /// Refills the window when the lookahead is short; returns `false` at end of input.
    #[inline]
    fn ensure_lookahead(&mut self, needed: usize) -> bool {
        if self.win.lookahead < needed {
            self.win.fill_window();
            if self.win.lookahead == 0 {
                return false;
            }
        }
        true
    }

    /// zlib's `nice_match`, clipped to the lookahead: not looking past the end of the
    /// input keeps deflate deterministic.
    #[inline]
    fn nice(&self) -> usize {
        self.tuning.nice_length.min(self.win.lookahead)
    }

    /// Inserts the string at `strstart` when three bytes remain; returns the chain head.
    #[inline]
    fn insert_current(&mut self) -> usize {
        if self.win.lookahead >= MIN_MATCH {
            usize::from(self.win.insert_string(self.win.strstart))
        } else {
            usize::from(NIL)
        }
    }

    /// Greedy matching: take the longest match at each position; insert the strings
    /// inside a match only if it is at most `max_lazy` long.
    fn deflate_fast(&mut self) {
        let t = self.tuning;
        while self.ensure_lookahead(MIN_LOOKAHEAD) {
            let hash_head = self.insert_current();
            let mut match_length = 0;
            let strstart = self.win.strstart;
            if hash_head != usize::from(NIL) && strstart - hash_head <= self.win.max_dist() {
                let nice = self.nice();
                match_length = longest_match(&mut self.win, hash_head, MIN_MATCH - 1, &t, nice);
            }
            let bflush = if match_length >= MIN_MATCH {
                let dist = strstart - self.win.match_start;
                let bflush = self.blocks.tally_dist(dist, match_length);
                self.win.lookahead -= match_length;
                if match_length <= t.max_lazy && self.win.lookahead >= MIN_MATCH {
                    for _ in 1..match_length {
                        self.win.strstart += 1;
                        self.win.insert_string(self.win.strstart);
                    }
                    self.win.strstart += 1;
                } else {
                    self.win.strstart += match_length;
                }
                bflush
            } else {
                let bflush = self.blocks.tally_lit(self.win.buf[strstart]);
                self.win.lookahead -= 1;
                self.win.strstart += 1;
                bflush
            };
            if bflush && !self.flush_block(false) {
                return;
            }
        }
        self.flush_block(true);
    }

    /// Lazy matching: a match is taken only if the next position has no longer one.
    fn deflate_slow(&mut self) {
        let t = self.tuning;
        let filtered = self.strategy == Strategy::Filtered;
        let mut match_length = MIN_MATCH - 1;
        let mut match_available = false;
        while self.ensure_lookahead(MIN_LOOKAHEAD) {
            let hash_head = self.insert_current();
            let strstart = self.win.strstart;
            let prev_length = match_length;
            let prev_match = self.win.match_start;
            match_length = MIN_MATCH - 1;
            if hash_head != usize::from(NIL)
                && prev_length < t.max_lazy
                && strstart - hash_head <= self.win.max_dist()
            {
                let nice = self.nice();
                match_length = longest_match(&mut self.win, hash_head, prev_length, &t, nice);
                let far = strstart.wrapping_sub(self.win.match_start) > TOO_FAR;
                if match_length <= 5 && (filtered || (match_length == MIN_MATCH && far)) {
                    match_length = MIN_MATCH - 1;
                }
            }
            if prev_length >= MIN_MATCH && match_length <= prev_length {
                let max_insert = strstart + self.win.lookahead - MIN_MATCH;
                let dist = strstart.wrapping_sub(1).wrapping_sub(prev_match);
                let bflush = self.blocks.tally_dist(dist, prev_length);
                self.win.lookahead -= prev_length - 1;
                for _ in 0..prev_length - 2 {
                    self.win.strstart += 1;
                    if self.win.strstart <= max_insert {
                        self.win.insert_string(self.win.strstart);
                    }
                }
                match_available = false;
                match_length = MIN_MATCH - 1;
                self.win.strstart += 1;
                if bflush && !self.flush_block(false) {
                    return;
                }
            } else if match_available {
                let bflush = self.blocks.tally_lit(self.win.buf[strstart - 1]);
                if bflush && !self.flush_block(false) {
                    return;
                }
                self.win.strstart += 1;
                self.win.lookahead -= 1;
            } else {
                match_available = true;
                self.win.strstart += 1;
                self.win.lookahead -= 1;
            }
        }
        if match_available {
            self.blocks.tally_lit(self.win.buf[self.win.strstart - 1]);
        }
        self.flush_block(true);
    }

    /// Runs of the previous byte as matches at distance 1; no hash chains.
    fn deflate_rle(&mut self) {
        while self.ensure_lookahead(MAX_MATCH + 1) {
            let s = self.win.strstart;
            let buf = &self.win.buf;
            let mut match_length = 0;
            if self.win.lookahead >= MIN_MATCH && s > 0 {
                let prev = buf[s - 1];
                if buf[s] == prev && buf[s + 1] == prev && buf[s + 2] == prev {
                    // zlib's unrolled scan: first difference at index 3..258, or 258.
                    let run = 3 + buf[s + 3..s + MAX_MATCH]
                        .iter()
                        .take_while(|&&b| b == prev)
                        .count();
                    match_length = run.min(self.win.lookahead);
                }
            }
            let bflush = if match_length >= MIN_MATCH {
                self.win.lookahead -= match_length;
                self.win.strstart += match_length;
                self.blocks.tally_dist(1, match_length)
            } else {
                let c = buf[s];
                self.win.lookahead -= 1;
                self.win.strstart += 1;
                self.blocks.tally_lit(c)
            };
            if bflush && !self.flush_block(false) {
                return;
            }
        }
        self.flush_block(true);
    }

    /// Literals only.
    fn deflate_huff(&mut self) {
        while self.ensure_lookahead(1) {
            let c = self.win.buf[self.win.strstart];
            self.win.lookahead -= 1;
            self.win.strstart += 1;
            if self.blocks.tally_lit(c) && !self.flush_block(false) {
                return;
            }
        }
        self.flush_block(true);
    }
}
