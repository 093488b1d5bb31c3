//! Block output as zlib's trees.c writes it: symbols are tallied into a buffer of
//! `lit_bufsize - 1` entries; when a block is flushed, zlib builds both dynamic trees,
//! compares the costs of stored, fixed and dynamic encodings and writes the cheapest
//! (`_tr_flush_block`), with zlib's tie rules.

use super::bits::BitWriter;
use super::huffman::{Builder, Tree, TreeKind};
use super::tables::{
    BASE_DIST, BASE_LENGTH, BL_CODES, BL_ORDER, D_CODES, END_BLOCK, EXTRA_BLBITS, EXTRA_DBITS,
    EXTRA_LBITS, L_CODES, LENGTH_CODE, LITERALS, MAX_BITS, MAX_BL_BITS, REP_3_6, REPZ_3_10,
    REPZ_11_138, STATIC_DTREE, STATIC_LTREE, d_code,
};

const STORED_BLOCK: u32 = 0;
const STATIC_TREES: u32 = 1;
const DYN_TREES: u32 = 2;

const L_KIND: TreeKind = TreeKind {
    static_len: Some(|n| STATIC_LTREE[n].1),
    extra_bits: &EXTRA_LBITS,
    extra_base: LITERALS + 1,
    elems: L_CODES,
    max_length: MAX_BITS,
};
const D_KIND: TreeKind = TreeKind {
    static_len: Some(|n| STATIC_DTREE[n].1),
    extra_bits: &EXTRA_DBITS,
    extra_base: 0,
    elems: D_CODES,
    max_length: MAX_BITS,
};
const BL_KIND: TreeKind = TreeKind {
    static_len: None,
    extra_bits: &EXTRA_BLBITS,
    extra_base: 0,
    elems: BL_CODES,
    max_length: MAX_BL_BITS,
};

/// The symbols of the current block and the trees built from them.
pub(super) struct Blocks {
    /// (distance low, distance high, literal or length − 3) per symbol, as zlib's sym_buf.
    sym_buf: Vec<u8>,
    sym_end: usize,
    ltree: Tree,
    dtree: Tree,
    bltree: Tree,
    builder: Builder,
    /// `Z_FIXED`: fixed codes unless a stored block is smaller. (Level 0, which forces
    /// stored blocks in `_tr_flush_block`, writes its blocks without this type.)
    fixed_codes: bool,
}

impl Blocks {
    /// A block that is full at `symbols` symbols.
    pub(super) fn new(symbols: usize, fixed_codes: bool) -> Self {
        let mut blocks = Self {
            sym_buf: Vec::with_capacity(symbols * 3),
            sym_end: symbols * 3,
            ltree: Tree::new(),
            dtree: Tree::new(),
            bltree: Tree::new(),
            builder: Builder::new(),
            fixed_codes,
        };
        blocks.init_block();
        blocks
    }

    fn init_block(&mut self) {
        self.ltree.fc[..L_CODES].fill(0);
        self.dtree.fc[..D_CODES].fill(0);
        self.bltree.fc[..BL_CODES].fill(0);
        self.ltree.fc[END_BLOCK] = 1;
        self.builder.opt_len = 0;
        self.builder.static_len = 0;
        self.sym_buf.clear();
    }

    /// Tallies a literal; returns whether the block is full and must be flushed.
    #[inline]
    pub(super) fn tally_lit(&mut self, c: u8) -> bool {
        self.sym_buf.extend_from_slice(&[0, 0, c]);
        self.ltree.fc[c as usize] += 1;
        self.sym_buf.len() == self.sym_end
    }

    /// Tallies a match of `len` (3..=258) at distance `dist` (1..=32768); returns whether
    /// the block is full.
    #[inline]
    pub(super) fn tally_dist(&mut self, dist: usize, len: usize) -> bool {
        let lc = len - 3;
        self.sym_buf
            .extend_from_slice(&[dist as u8, (dist >> 8) as u8, lc as u8]);
        self.ltree.fc[LENGTH_CODE[lc] as usize + LITERALS + 1] += 1;
        self.dtree.fc[d_code(dist - 1)] += 1;
        self.sym_buf.len() == self.sym_end
    }

    /// Symbols tallied into the current block.
    pub(super) fn symbols(&self) -> usize {
        self.sym_buf.len() / 3
    }

    /// gzip's guess (in `ct_tally`, every 4096 symbols above level 2) that cutting the
    /// block here pays: fewer than half the symbols are matches and an upper bound of the
    /// coded length is under half of the `in_length` bytes the block covers.
    pub(super) fn gnu_cut_pays(&self, in_length: u64) -> bool {
        let symbols = self.symbols() as u64;
        let matches = self.sym_buf.chunks_exact(3).filter(|s| s[..2] != [0, 0]);
        let mut out_length = symbols * 8;
        for (code, &freq) in self.dtree.fc[..D_CODES].iter().enumerate() {
            out_length += u64::from(freq) * (5 + u64::from(EXTRA_DBITS[code]));
        }
        out_length >>= 3;
        (matches.count() as u64) < symbols / 2 && out_length < in_length / 2
    }

    /// Writes the current block as zlib's `_tr_flush_block` would. `stored` is the
    /// block's input when it is still in the window (zlib's `buf`; `None` when the block
    /// start has slid out), `stored_len` its length.
    pub(super) fn flush_block(
        &mut self,
        w: &mut BitWriter<'_>,
        stored: Option<&[u8]>,
        stored_len: usize,
        last: bool,
    ) {
        self.builder.build_tree(&mut self.ltree, &L_KIND);
        self.builder.build_tree(&mut self.dtree, &D_KIND);
        let max_blindex = self.build_bl_tree();
        let mut opt_lenb = (self.builder.opt_len.wrapping_add(3 + 7)) >> 3;
        let static_lenb = (self.builder.static_len.wrapping_add(3 + 7)) >> 3;
        if static_lenb <= opt_lenb || self.fixed_codes {
            opt_lenb = static_lenb;
        }
        match stored {
            Some(buf) if stored_len as u64 + 4 <= opt_lenb => {
                stored_block(w, buf, last);
            }
            _ if static_lenb == opt_lenb => {
                w.send_bits((STATIC_TREES << 1) + u32::from(last), 3);
                self.compress_block(w, &STATIC_LTREE, &STATIC_DTREE);
            }
            _ => {
                w.send_bits((DYN_TREES << 1) + u32::from(last), 3);
                self.send_all_trees(
                    w,
                    self.ltree.max_code + 1,
                    self.dtree.max_code + 1,
                    max_blindex + 1,
                );
                let lt = tree_codes(&self.ltree, L_CODES);
                let dt = tree_codes(&self.dtree, D_CODES);
                self.compress_block(w, &lt, &dt);
            }
        }
        self.init_block();
        if last {
            w.windup();
        }
    }

    /// Builds the bit-length tree; returns the index in `BL_ORDER` of the last length
    /// code to send (at least 3).
    fn build_bl_tree(&mut self) -> usize {
        scan_tree(&mut self.bltree, &mut self.ltree);
        scan_tree(&mut self.bltree, &mut self.dtree);
        self.builder.build_tree(&mut self.bltree, &BL_KIND);
        let mut max_blindex = BL_CODES - 1;
        while max_blindex >= 3 && self.bltree.len(BL_ORDER[max_blindex] as usize) == 0 {
            max_blindex -= 1;
        }
        self.builder.opt_len = self
            .builder
            .opt_len
            .wrapping_add(3 * (max_blindex as u64 + 1) + 5 + 5 + 4);
        max_blindex
    }

    fn send_all_trees(&self, w: &mut BitWriter<'_>, lcodes: usize, dcodes: usize, blcodes: usize) {
        w.send_bits((lcodes - 257) as u32, 5);
        w.send_bits((dcodes - 1) as u32, 5);
        w.send_bits((blcodes - 4) as u32, 4);
        for &rank in &BL_ORDER[..blcodes] {
            w.send_bits(u32::from(self.bltree.len(rank as usize)), 3);
        }
        send_tree(w, &self.bltree, &self.ltree, lcodes - 1);
        send_tree(w, &self.bltree, &self.dtree, dcodes - 1);
    }

    fn compress_block(&self, w: &mut BitWriter<'_>, ltree: &[(u16, u8)], dtree: &[(u16, u8)]) {
        for sym in self.sym_buf.chunks_exact(3) {
            let dist = usize::from(sym[0]) | usize::from(sym[1]) << 8;
            let lc = usize::from(sym[2]);
            if dist == 0 {
                send_code(w, ltree, lc);
                continue;
            }
            let code = LENGTH_CODE[lc] as usize;
            send_code(w, ltree, code + LITERALS + 1);
            let extra = u32::from(EXTRA_LBITS[code]);
            if extra != 0 {
                w.send_bits((lc - BASE_LENGTH[code] as usize) as u32, extra);
            }
            let dist = dist - 1;
            let code = d_code(dist);
            send_code(w, dtree, code);
            let extra = u32::from(EXTRA_DBITS[code]);
            if extra != 0 {
                w.send_bits((dist - BASE_DIST[code] as usize) as u32, extra);
            }
        }
        send_code(w, ltree, END_BLOCK);
    }
}

/// Writes a stored block header and `buf` (zlib's `_tr_stored_block`).
pub(super) fn stored_block(w: &mut BitWriter<'_>, buf: &[u8], last: bool) {
    w.send_bits((STORED_BLOCK << 1) + u32::from(last), 3);
    w.windup();
    let len = buf.len() as u16;
    w.put_bytes(&len.to_le_bytes());
    w.put_bytes(&(!len).to_le_bytes());
    w.put_bytes(buf);
}

/// (code, length) pairs of a built tree, in the layout of the static trees.
fn tree_codes(tree: &Tree, n: usize) -> Vec<(u16, u8)> {
    (0..n).map(|i| (tree.fc[i], tree.dl[i] as u8)).collect()
}

#[inline]
fn send_code(w: &mut BitWriter<'_>, tree: &[(u16, u8)], c: usize) {
    let (code, len) = tree[c];
    w.send_bits(u32::from(code), u32::from(len));
}

/// Run-length parameters after a run of `curlen` followed by `nextlen`.
fn run_limits(curlen: u16, nextlen: u16) -> (usize, usize) {
    if nextlen == 0 {
        (138, 3)
    } else if curlen == nextlen {
        (6, 3)
    } else {
        (7, 4)
    }
}

/// One run of equal code lengths as `scan_tree`/`send_tree` cut them.
enum Run {
    Plain(u16, usize),
    Repeat { first: Option<u16>, count: usize },
    Zeros(usize),
}

/// Cuts the code lengths of `tree` (0..=max_code) into runs, as zlib does; the guard
/// length 0xffff after the last code is written into the tree as zlib writes it.
fn runs(tree: &mut Tree, max_code: usize, mut emit: impl FnMut(Run)) {
    let mut prevlen: i32 = -1;
    let mut nextlen = tree.dl[0];
    let mut count = 0;
    let (mut max_count, mut min_count) = if nextlen == 0 { (138, 3) } else { (7, 4) };
    tree.dl[max_code + 1] = 0xffff;
    for n in 0..=max_code {
        let curlen = nextlen;
        nextlen = tree.dl[n + 1];
        count += 1;
        if count < max_count && curlen == nextlen {
            continue;
        } else if count < min_count {
            emit(Run::Plain(curlen, count));
        } else if curlen != 0 {
            let first = (i32::from(curlen) != prevlen).then_some(curlen);
            emit(Run::Repeat { first, count });
        } else {
            emit(Run::Zeros(count));
        }
        count = 0;
        prevlen = i32::from(curlen);
        (max_count, min_count) = run_limits(curlen, nextlen);
    }
}

/// Counts the bit-length codes `send_tree` will use for `tree` (zlib's `scan_tree`).
fn scan_tree(bltree: &mut Tree, tree: &mut Tree) {
    let max_code = tree.max_code;
    runs(tree, max_code, |run| match run {
        Run::Plain(len, count) => bltree.fc[len as usize] += count as u16,
        Run::Repeat { first, .. } => {
            if let Some(len) = first {
                bltree.fc[len as usize] += 1;
            }
            bltree.fc[REP_3_6] += 1;
        }
        Run::Zeros(count) if count <= 10 => bltree.fc[REPZ_3_10] += 1,
        Run::Zeros(_) => bltree.fc[REPZ_11_138] += 1,
    });
}

/// Sends the code lengths of `tree` in run-length form with the bit-length code.
fn send_tree(w: &mut BitWriter<'_>, bltree: &Tree, tree: &Tree, max_code: usize) {
    let bl = tree_codes(bltree, BL_CODES);
    // The guard is already in place from scan_tree; work on a copy of the lengths only.
    let mut lens = Tree::new();
    lens.dl[..=max_code + 1].copy_from_slice(&tree.dl[..=max_code + 1]);
    runs(&mut lens, max_code, |run| match run {
        Run::Plain(len, count) => {
            for _ in 0..count {
                send_code(w, &bl, len as usize);
            }
        }
        Run::Repeat { first, mut count } => {
            if let Some(len) = first {
                send_code(w, &bl, len as usize);
                count -= 1;
            }
            send_code(w, &bl, REP_3_6);
            w.send_bits((count - 3) as u32, 2);
        }
        Run::Zeros(count) if count <= 10 => {
            send_code(w, &bl, REPZ_3_10);
            w.send_bits((count - 3) as u32, 3);
        }
        Run::Zeros(count) => {
            send_code(w, &bl, REPZ_11_138);
            w.send_bits((count - 11) as u32, 7);
        }
    });
}
