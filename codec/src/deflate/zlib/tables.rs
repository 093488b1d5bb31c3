//! The fixed tables of deflate (RFC 1951) in the layout zlib's trees.c builds them in
//! `tr_static_init`, computed at compile time.

/// Number of literal bytes.
pub(super) const LITERALS: usize = 256;
/// Number of length codes, not counting the special END_BLOCK code.
pub(super) const LENGTH_CODES: usize = 29;
/// Number of literal/length codes, END_BLOCK included.
pub(super) const L_CODES: usize = LITERALS + 1 + LENGTH_CODES;
/// Number of distance codes.
pub(super) const D_CODES: usize = 30;
/// Number of codes used to transfer the bit lengths.
pub(super) const BL_CODES: usize = 19;
/// Longest code allowed for literals, lengths and distances.
pub(super) const MAX_BITS: u32 = 15;
/// Longest code allowed for the bit-length codes.
pub(super) const MAX_BL_BITS: u32 = 7;
/// End of block literal code.
pub(super) const END_BLOCK: usize = 256;
/// Repeat the previous bit length 3–6 times (2 extra bits).
pub(super) const REP_3_6: usize = 16;
/// Repeat a zero length 3–10 times (3 extra bits).
pub(super) const REPZ_3_10: usize = 17;
/// Repeat a zero length 11–138 times (7 extra bits).
pub(super) const REPZ_11_138: usize = 18;

/// Extra bits for each length code.
pub(super) const EXTRA_LBITS: [u8; LENGTH_CODES] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Extra bits for each distance code.
pub(super) const EXTRA_DBITS: [u8; D_CODES] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Extra bits for each bit-length code.
pub(super) const EXTRA_BLBITS: [u8; BL_CODES] =
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];
/// The order in which the bit-length code lengths are sent.
pub(super) const BL_ORDER: [u8; BL_CODES] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Length code (0..29) of each match length minus 3 (0..=255).
pub(super) const LENGTH_CODE: [u8; 256] = length_tables().0;
/// First match length minus 3 of each length code.
pub(super) const BASE_LENGTH: [u8; LENGTH_CODES] = length_tables().1;
/// Distance code of distances 0..256 (`dist - 1`), then of `256 + (dist - 1) >> 7`.
pub(super) const DIST_CODE: [u8; 512] = dist_tables().0;
/// First distance minus 1 of each distance code.
pub(super) const BASE_DIST: [u16; D_CODES] = dist_tables().1;
/// The fixed literal/length code (RFC 1951 3.2.6): `(code, len)`, 288 entries as zlib
/// keeps them (two unused codes complete the tree).
pub(super) const STATIC_LTREE: [(u16, u8); L_CODES + 2] = static_ltree();
/// The fixed distance code: 5 bits, bit-reversed.
pub(super) const STATIC_DTREE: [(u16, u8); D_CODES] = static_dtree();

/// Distance code of `dist - 1` (zlib's `d_code`).
#[inline]
pub(super) fn d_code(dist_minus_one: usize) -> usize {
    if dist_minus_one < 256 {
        DIST_CODE[dist_minus_one] as usize
    } else {
        DIST_CODE[256 + (dist_minus_one >> 7)] as usize
    }
}

/// Reverses the low `len` bits of `code`.
pub(super) const fn bi_reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

const fn length_tables() -> ([u8; 256], [u8; LENGTH_CODES]) {
    let mut code_of = [0u8; 256];
    let mut base = [0u8; LENGTH_CODES];
    let mut length = 0usize;
    let mut code = 0;
    while code < LENGTH_CODES - 1 {
        base[code] = length as u8;
        let mut n = 0;
        while n < (1 << EXTRA_LBITS[code]) {
            code_of[length] = code as u8;
            length += 1;
            n += 1;
        }
        code += 1;
    }
    // Length 258 (index 255) has its own code 28, overriding the last slot of code 27:
    // zlib does the same so that 258 costs no extra bits.
    code_of[length - 1] = code as u8;
    (code_of, base)
}

const fn dist_tables() -> ([u8; 512], [u16; D_CODES]) {
    let mut code_of = [0u8; 512];
    let mut base = [0u16; D_CODES];
    let mut dist = 0usize;
    let mut code = 0;
    while code < 16 {
        base[code] = dist as u16;
        let mut n = 0;
        while n < (1 << EXTRA_DBITS[code]) {
            code_of[dist] = code as u8;
            dist += 1;
            n += 1;
        }
        code += 1;
    }
    dist >>= 7;
    while code < D_CODES {
        base[code] = (dist << 7) as u16;
        let mut n = 0;
        while n < (1 << (EXTRA_DBITS[code] - 7)) {
            code_of[256 + dist] = code as u8;
            dist += 1;
            n += 1;
        }
        code += 1;
    }
    (code_of, base)
}

const fn static_ltree() -> [(u16, u8); L_CODES + 2] {
    let mut tree = [(0u16, 0u8); L_CODES + 2];
    let mut bl_count = [0u16; MAX_BITS as usize + 1];
    let mut n = 0;
    while n < L_CODES + 2 {
        let len = match n {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        };
        tree[n].1 = len;
        bl_count[len as usize] += 1;
        n += 1;
    }
    // gen_codes over all 288 codes, as tr_static_init does.
    let mut next_code = [0u32; MAX_BITS as usize + 1];
    let mut code = 0u32;
    let mut bits = 1;
    while bits <= MAX_BITS as usize {
        code = (code + bl_count[bits - 1] as u32) << 1;
        next_code[bits] = code;
        bits += 1;
    }
    let mut n = 0;
    while n < L_CODES + 2 {
        let len = tree[n].1 as usize;
        tree[n].0 = bi_reverse(next_code[len], len as u32) as u16;
        next_code[len] += 1;
        n += 1;
    }
    tree
}

const fn static_dtree() -> [(u16, u8); D_CODES] {
    let mut tree = [(0u16, 0u8); D_CODES];
    let mut n = 0;
    while n < D_CODES {
        tree[n] = (bi_reverse(n as u32, 5) as u16, 5);
        n += 1;
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_rfc1951() {
        // Length 3 → code 257 (index 0), 258 → code 285 (index 28) with no extra bits.
        assert_eq!(LENGTH_CODE[0], 0);
        assert_eq!(LENGTH_CODE[255], 28);
        assert_eq!(LENGTH_CODE[254], 27);
        assert_eq!(BASE_LENGTH[8], 8); // length 11
        assert_eq!(d_code(0), 0);
        assert_eq!(d_code(4), 4); // distance 5
        assert_eq!(d_code(32767), 29);
        assert_eq!(BASE_DIST[29], 24576);
        // Fixed code for literal 0 is 00110000 (sent bit-reversed), END_BLOCK is 0000000.
        assert_eq!(STATIC_LTREE[0], (0b00001100, 8));
        assert_eq!(STATIC_LTREE[256], (0, 7));
    }
}
