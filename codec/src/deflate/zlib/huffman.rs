//! Huffman code construction exactly as zlib's trees.c does it (`build_tree`,
//! `gen_bitlen`, `gen_codes`): the same heap, the same tie-breaking by subtree depth and
//! the same repair of over-long codes, so the code lengths — and so the bits — agree.

use super::tables::{L_CODES, MAX_BITS};

/// Heap capacity: every leaf and internal node of the largest tree.
pub(super) const HEAP_SIZE: usize = 2 * L_CODES + 1;

/// One tree in zlib's `ct_data` layout: `fc` is the frequency, then the code; `dl` is the
/// parent node while building, then the code length. The unions matter: zlib reads and
/// writes them in that order, and the guard in `scan_tree` lands in `dl`.
pub(super) struct Tree {
    pub(super) fc: [u16; HEAP_SIZE],
    pub(super) dl: [u16; HEAP_SIZE],
    /// Largest code with a non-zero frequency (zlib's `desc.max_code`).
    pub(super) max_code: usize,
}

impl Tree {
    pub(super) fn new() -> Self {
        Self {
            fc: [0; HEAP_SIZE],
            dl: [0; HEAP_SIZE],
            max_code: 0,
        }
    }

    /// Code length of symbol `n`.
    #[inline]
    pub(super) fn len(&self, n: usize) -> u16 {
        self.dl[n]
    }
}

/// What `build_tree` needs to know about a tree besides its frequencies
/// (zlib's `static_tree_desc`).
pub(super) struct TreeKind {
    /// Code lengths of the fixed code, to cost the block in fixed codes.
    pub(super) static_len: Option<fn(usize) -> u8>,
    pub(super) extra_bits: &'static [u8],
    /// First symbol with extra bits.
    pub(super) extra_base: usize,
    pub(super) elems: usize,
    pub(super) max_length: u32,
}

/// Shared scratch space of the tree builder and the running bit counts of the block.
pub(super) struct Builder {
    heap: [usize; HEAP_SIZE],
    heap_len: usize,
    heap_max: usize,
    depth: [u8; HEAP_SIZE],
    bl_count: [u16; MAX_BITS as usize + 1],
    /// Bit length of the block with the dynamic trees (without the trees themselves
    /// until `build_bl_tree` adds them). zlib lets it wrap; so does this.
    pub(super) opt_len: u64,
    /// Bit length of the block with the fixed trees.
    pub(super) static_len: u64,
}

impl Builder {
    pub(super) fn new() -> Self {
        Self {
            heap: [0; HEAP_SIZE],
            heap_len: 0,
            heap_max: 0,
            depth: [0; HEAP_SIZE],
            bl_count: [0; MAX_BITS as usize + 1],
            opt_len: 0,
            static_len: 0,
        }
    }

    /// Builds the Huffman code of `tree` from its frequencies: sets the code lengths and
    /// codes, `tree.max_code`, and adds the block's cost to `opt_len` and `static_len`.
    pub(super) fn build_tree(&mut self, tree: &mut Tree, kind: &TreeKind) {
        let elems = kind.elems;
        let mut max_code: isize = -1;
        self.heap_len = 0;
        self.heap_max = HEAP_SIZE;
        for n in 0..elems {
            if tree.fc[n] != 0 {
                self.heap_len += 1;
                self.heap[self.heap_len] = n;
                max_code = n as isize;
                self.depth[n] = 0;
            } else {
                tree.dl[n] = 0;
            }
        }
        // The pkzip format requires at least one distance code and at least two codes of
        // any kind; force them with frequency 1.
        while self.heap_len < 2 {
            let node = if max_code < 2 {
                max_code += 1;
                max_code as usize
            } else {
                0
            };
            self.heap_len += 1;
            self.heap[self.heap_len] = node;
            tree.fc[node] = 1;
            self.depth[node] = 0;
            self.opt_len = self.opt_len.wrapping_sub(1);
            if let Some(stat) = kind.static_len {
                self.static_len = self.static_len.wrapping_sub(u64::from(stat(node)));
            }
        }
        tree.max_code = max_code as usize;
        for n in (1..=self.heap_len / 2).rev() {
            self.pqdownheap(tree, n);
        }
        self.combine_nodes(tree, elems);
        self.gen_bitlen(tree, kind);
        gen_codes(tree, tree.max_code, &self.bl_count);
    }

    /// Repeatedly joins the two least frequent nodes until one root remains, recording
    /// the order in the top of the heap for `gen_bitlen`.
    fn combine_nodes(&mut self, tree: &mut Tree, elems: usize) {
        let mut node = elems;
        loop {
            let n = self.heap[1];
            self.heap[1] = self.heap[self.heap_len];
            self.heap_len -= 1;
            self.pqdownheap(tree, 1);
            let m = self.heap[1];
            self.heap_max -= 1;
            self.heap[self.heap_max] = n;
            self.heap_max -= 1;
            self.heap[self.heap_max] = m;
            tree.fc[node] = tree.fc[n].wrapping_add(tree.fc[m]);
            self.depth[node] = self.depth[n].max(self.depth[m]) + 1;
            tree.dl[n] = node as u16;
            tree.dl[m] = node as u16;
            self.heap[1] = node;
            node += 1;
            self.pqdownheap(tree, 1);
            if self.heap_len < 2 {
                break;
            }
        }
        self.heap_max -= 1;
        self.heap[self.heap_max] = self.heap[1];
    }

    #[inline]
    fn smaller(&self, tree: &Tree, n: usize, m: usize) -> bool {
        tree.fc[n] < tree.fc[m] || (tree.fc[n] == tree.fc[m] && self.depth[n] <= self.depth[m])
    }

    /// Restores the heap property from node `k` down.
    fn pqdownheap(&mut self, tree: &Tree, mut k: usize) {
        let v = self.heap[k];
        let mut j = k << 1;
        while j <= self.heap_len {
            if j < self.heap_len && self.smaller(tree, self.heap[j + 1], self.heap[j]) {
                j += 1;
            }
            if self.smaller(tree, v, self.heap[j]) {
                break;
            }
            self.heap[k] = self.heap[j];
            k = j;
            j <<= 1;
        }
        self.heap[k] = v;
    }

    /// Computes the optimal code lengths, limited to `kind.max_length` the way zlib
    /// limits them, and the block's cost.
    fn gen_bitlen(&mut self, tree: &mut Tree, kind: &TreeKind) {
        let max_length = kind.max_length as u16;
        let max_code = tree.max_code;
        self.bl_count = [0; MAX_BITS as usize + 1];
        tree.dl[self.heap[self.heap_max]] = 0;
        let mut overflow = 0i32;
        for h in self.heap_max + 1..HEAP_SIZE {
            let n = self.heap[h];
            let mut bits = tree.dl[tree.dl[n] as usize] + 1;
            if bits > max_length {
                bits = max_length;
                overflow += 1;
            }
            tree.dl[n] = bits;
            if n > max_code {
                continue; // not a leaf
            }
            self.bl_count[bits as usize] += 1;
            let xbits = if n >= kind.extra_base {
                kind.extra_bits[n - kind.extra_base]
            } else {
                0
            };
            let f = u64::from(tree.fc[n]);
            self.opt_len = self
                .opt_len
                .wrapping_add(f * u64::from(bits + u16::from(xbits)));
            if let Some(stat) = kind.static_len {
                self.static_len = self
                    .static_len
                    .wrapping_add(f * u64::from(stat(n) as u16 + u16::from(xbits)));
            }
        }
        if overflow == 0 {
            return;
        }
        self.repair_overflow(tree, kind.max_length as usize, overflow);
    }

    /// Moves over-long leaves up the tree the way zlib does, then reassigns lengths to
    /// leaves in order of frequency.
    fn repair_overflow(&mut self, tree: &mut Tree, max_length: usize, mut overflow: i32) {
        loop {
            let mut bits = max_length - 1;
            while self.bl_count[bits] == 0 {
                bits -= 1;
            }
            self.bl_count[bits] -= 1;
            self.bl_count[bits + 1] += 2;
            self.bl_count[max_length] -= 1;
            overflow -= 2;
            if overflow <= 0 {
                break;
            }
        }
        let mut h = HEAP_SIZE;
        for bits in (1..=max_length).rev() {
            let mut n = self.bl_count[bits];
            while n != 0 {
                h -= 1;
                let m = self.heap[h];
                if m > tree.max_code {
                    continue;
                }
                if tree.dl[m] as usize != bits {
                    let delta = (bits as u64).wrapping_sub(u64::from(tree.dl[m]));
                    self.opt_len = self
                        .opt_len
                        .wrapping_add(delta.wrapping_mul(u64::from(tree.fc[m])));
                    tree.dl[m] = bits as u16;
                }
                n -= 1;
            }
        }
    }
}

/// Assigns canonical codes (bit-reversed for sending) from the code lengths.
fn gen_codes(tree: &mut Tree, max_code: usize, bl_count: &[u16; MAX_BITS as usize + 1]) {
    let mut next_code = [0u16; MAX_BITS as usize + 1];
    let mut code: u32 = 0;
    for bits in 1..=MAX_BITS as usize {
        code = (code + u32::from(bl_count[bits - 1])) << 1;
        next_code[bits] = code as u16;
    }
    for n in 0..=max_code {
        let len = tree.dl[n];
        if len == 0 {
            continue;
        }
        let c = next_code[len as usize];
        next_code[len as usize] = c.wrapping_add(1);
        tree.fc[n] = super::tables::bi_reverse(u32::from(c), u32::from(len)) as u16;
    }
}
