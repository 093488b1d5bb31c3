//! zlib's `longest_match`: walk the hash chain from `cur_match`, keep the first longest
//! match, stop at `nice_length` or after `max_chain` steps (a quarter of them when the
//! previous match is already `good_length` long).

use super::params::Tuning;
use super::window::{MAX_MATCH, Window};

/// Length-3 matches farther than this are not worth it (the lazy levels of zlib and gzip).
pub(super) const TOO_FAR: usize = 4096;

/// Length of the common prefix of the strings at `a` and `b` as zlib's unrolled loop
/// measures it: bytes 0 and 1 are known equal and byte 2 is skipped (the hash of equal
/// first bytes pins it), so this is the first difference at index 3..258, or 258.
#[inline]
fn match_len(buf: &[u8], a: usize, b: usize) -> usize {
    let x = &buf[a..a + MAX_MATCH];
    let y = &buf[b..b + MAX_MATCH];
    let mut i = 3;
    while i + 8 <= MAX_MATCH {
        let u = u64::from_le_bytes(x[i..i + 8].try_into().expect("8 bytes"));
        let v = u64::from_le_bytes(y[i..i + 8].try_into().expect("8 bytes"));
        let d = u ^ v;
        if d != 0 {
            return i + (d.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < MAX_MATCH && x[i] == y[i] {
        i += 1;
    }
    i
}

/// Longest match for the string at `win.strstart`, starting from chain head
/// `cur_match`, longer than `prev_length`, stopping at one of `nice_match` bytes. Sets
/// `win.match_start` when it finds one; returns the best length (at most the lookahead).
pub(super) fn longest_match(
    win: &mut Window<'_>,
    mut cur_match: usize,
    prev_length: usize,
    t: &Tuning,
    nice_match: usize,
) -> usize {
    let mut chain_length = t.max_chain;
    let scan = win.strstart;
    let mut best_len = prev_length;
    let limit = scan.saturating_sub(win.max_dist());
    if prev_length >= t.good_length {
        chain_length >>= 2;
    }
    let mut found = None;
    let buf = &win.buf[..];
    let (s0, s1) = (buf[scan], buf[scan + 1]);
    let mut scan_end1 = buf[scan + best_len - 1];
    let mut scan_end = buf[scan + best_len];
    loop {
        let m = cur_match;
        if buf[m + best_len] == scan_end
            && buf[m + best_len - 1] == scan_end1
            && buf[m] == s0
            && buf[m + 1] == s1
        {
            let len = match_len(buf, scan, m);
            if len > best_len {
                found = Some(m);
                best_len = len;
                if len >= nice_match {
                    break;
                }
                scan_end1 = buf[scan + best_len - 1];
                scan_end = buf[scan + best_len];
            }
        }
        cur_match = usize::from(win.prev[cur_match & win.w_mask]);
        chain_length -= 1;
        if cur_match <= limit || chain_length == 0 {
            break;
        }
    }
    if let Some(m) = found {
        win.match_start = m;
    }
    best_len.min(win.lookahead)
}
