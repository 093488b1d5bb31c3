//! The sliding window and hash chains (zlib's `window`, `head`, `prev`, `fill_window`,
//! `slide_hash`, `insert_string`), kept byte for byte as zlib keeps them: positions,
//! slides and even the stale bytes past the end of the data are the same, because
//! Chromium's 4-byte hash reads one byte past the last 3-byte string.

use super::params::Flavor;

/// Shortest match.
pub(super) const MIN_MATCH: usize = 3;
/// Longest match.
pub(super) const MAX_MATCH: usize = 258;
/// Lookahead the match finder needs: a longest match plus the next string to insert.
pub(super) const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;
/// End of a hash chain (so a string at window index 0 is never matched, as in zlib).
pub(super) const NIL: u16 = 0;

/// Bytes allocated past `2 * w_size`: reads of up to `MAX_MATCH` bytes after the last
/// possible `strstart`, and the 4-byte hash at the end, stay inside the buffer. They are
/// zero, as zlib's `high_water` zeroing and Chromium's zeroed window make them.
const PAD: usize = MAX_MATCH + 16;

/// How string positions are hashed.
#[derive(Clone, Copy)]
enum Hash {
    /// zlib's rolling hash of 3 bytes: `((b0 << 2s) ^ (b1 << s) ^ b2) & mask`. With
    /// `3 * s >= hash_bits` it depends on those 3 bytes only, so it is computed directly
    /// instead of rolled.
    Rolling { shift: u32 },
    /// Chromium's multiplicative hash of the 4 bytes at the position (little endian).
    Multiplicative,
}

/// The window, the hash chains and the match state that moves with them.
pub(super) struct Window<'a> {
    input: &'a [u8],
    next_in: usize,
    /// `2 * w_size` bytes of window plus [`PAD`].
    pub(super) buf: Vec<u8>,
    pub(super) w_size: usize,
    pub(super) w_mask: usize,
    pub(super) head: Vec<u16>,
    pub(super) prev: Vec<u16>,
    hash: Hash,
    hash_mask: u32,
    /// Start of the string being processed.
    pub(super) strstart: usize,
    /// Valid bytes from `strstart` on.
    pub(super) lookahead: usize,
    /// Window position of the current block's first byte; negative once it slid out.
    pub(super) block_start: isize,
    /// Start of the last match found. Wraps below zero when the window slides past it,
    /// as zlib's unsigned `match_start` does; distances are taken modulo 2^N.
    pub(super) match_start: usize,
    /// gzip's `eofile`: a read found the input exhausted (gzip stops reading and
    /// sliding then; zlib keeps no such state).
    eof: bool,
}

impl<'a> Window<'a> {
    /// A window of `2^window_bits` bytes with `2^hash_bits` hash heads.
    pub(super) fn new(input: &'a [u8], window_bits: u8, hash_bits: u8, flavor: Flavor) -> Self {
        let w_size = 1usize << window_bits;
        let hash = match flavor {
            Flavor::Zlib | Flavor::Gnu => Hash::Rolling {
                shift: u32::from(hash_bits).div_ceil(3),
            },
            Flavor::Chromium => Hash::Multiplicative,
        };
        Self {
            input,
            next_in: 0,
            buf: vec![0; 2 * w_size + PAD],
            w_size,
            w_mask: w_size - 1,
            head: vec![NIL; 1 << hash_bits],
            prev: vec![NIL; w_size],
            hash,
            hash_mask: (1u32 << hash_bits) - 1,
            strstart: 0,
            lookahead: 0,
            block_start: 0,
            match_start: 0,
            eof: false,
        }
    }

    /// Farthest distance a match may reach (zlib's `MAX_DIST`).
    #[inline]
    pub(super) fn max_dist(&self) -> usize {
        self.w_size - MIN_LOOKAHEAD
    }

    /// Whether all input has been read into the window.
    pub(super) fn input_done(&self) -> bool {
        self.next_in == self.input.len()
    }

    #[inline]
    fn hash_at(&self, pos: usize) -> usize {
        let b = &self.buf[pos..pos + 4];
        let h = match self.hash {
            Hash::Rolling { shift } => {
                (u32::from(b[0]) << (2 * shift)) ^ (u32::from(b[1]) << shift) ^ u32::from(b[2])
            }
            Hash::Multiplicative => {
                let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                v.wrapping_mul(66521).wrapping_add(66521) >> 16
            }
        };
        (h & self.hash_mask) as usize
    }

    /// Inserts the string at `pos` into its hash chain; returns the previous head.
    #[inline]
    pub(super) fn insert_string(&mut self, pos: usize) -> u16 {
        let h = self.hash_at(pos);
        let old = self.head[h];
        self.prev[pos & self.w_mask] = old;
        self.head[h] = pos as u16;
        old
    }

    /// Reads input until the lookahead is at least [`MIN_LOOKAHEAD`] or the input ends,
    /// sliding the window down by `w_size` when `strstart` nears its end.
    ///
    /// zlib's `fill_window` also inserts `s->insert` strings left over from an earlier
    /// call (after `deflate_stored`, a flush or a preset dictionary) and primes its
    /// rolling hash; with all input in one call there are never any left over, and the
    /// hash here is computed from the bytes themselves.
    pub(super) fn fill_window(&mut self) {
        let window_size = 2 * self.w_size;
        loop {
            let mut more = window_size - self.lookahead - self.strstart;
            if self.strstart >= self.w_size + self.max_dist() {
                self.slide(more);
                more += self.w_size;
            }
            if self.input_done() {
                break;
            }
            let at = self.strstart + self.lookahead;
            let n = more.min(self.input.len() - self.next_in);
            self.buf[at..at + n].copy_from_slice(&self.input[self.next_in..self.next_in + n]);
            self.next_in += n;
            self.lookahead += n;
            if self.lookahead >= MIN_LOOKAHEAD || self.input_done() {
                break;
            }
        }
    }

    /// gzip's refill (`while (lookahead < MIN_LOOKAHEAD && !eofile) fill_window();`),
    /// for input read from a regular file, where each read returns all it was asked for.
    /// Unlike zlib, gzip slides the whole upper half and zeroes only the two bytes after
    /// the data at the end, so the bytes past the end are stale input, which
    /// `longest_match` may compare (gzip does not clip `nice_match` to the lookahead).
    pub(super) fn gnu_fill(&mut self) {
        let window_size = 2 * self.w_size;
        while self.lookahead < MIN_LOOKAHEAD && !self.eof {
            let mut more = window_size - self.lookahead - self.strstart;
            if self.strstart >= self.w_size + self.max_dist() {
                self.slide(0);
                more += self.w_size;
            }
            let at = self.strstart + self.lookahead;
            let n = more.min(self.input.len() - self.next_in);
            if n == 0 {
                self.eof = true;
                self.buf[at..at + MIN_MATCH - 1].fill(0);
                break;
            }
            self.buf[at..at + n].copy_from_slice(&self.input[self.next_in..self.next_in + n]);
            self.next_in += n;
            self.lookahead += n;
        }
    }

    /// gzip's extra guard before `longest_match`: once the input has ended it no longer
    /// slides, and no match is searched closer than [`MIN_LOOKAHEAD`] to the window's end.
    pub(super) fn gnu_can_match(&self) -> bool {
        self.strstart <= 2 * self.w_size - MIN_LOOKAHEAD
    }

    /// Moves the upper half of the window down. zlib copies only up to the end of the
    /// data (`wsize - more` bytes); the bytes above stay stale, here as there. gzip
    /// copies the whole half (`more` = 0).
    fn slide(&mut self, more: usize) {
        let w_size = self.w_size;
        self.buf.copy_within(w_size..2 * w_size - more, 0);
        self.match_start = self.match_start.wrapping_sub(w_size);
        self.strstart -= w_size;
        self.block_start -= w_size as isize;
        self.slide_hash();
    }

    /// Rebases every chain entry by `w_size`; entries that fall out become [`NIL`].
    fn slide_hash(&mut self) {
        let w_size = self.w_size as u16;
        let down = |m: &mut u16| *m = if *m >= w_size { *m - w_size } else { NIL };
        self.head.iter_mut().for_each(down);
        self.prev.iter_mut().for_each(down);
    }
}
