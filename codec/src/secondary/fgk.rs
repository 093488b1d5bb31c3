//! xdelta3's FGK secondary compressor (`-S fgk`): adaptive Huffman coding (Knuth's
//! "Dynamic Huffman Coding", the FGK algorithm), as `xdelta3-fgk.h` decodes it. The tree
//! is carried from window to window for each section kind. xdelta3's encoder also updates
//! its tree over sections whose coded form it then drops (it saved too little), which its
//! decoder cannot see: such multi-window deltas fail to decode in xdelta3 as here (an
//! error, never wrong bytes). Single-window deltas, and windows before the first dropped
//! section, decode. Nodes and blocks live in
//! arrays and point at each other by index; every link followed is checked, so a state the
//! algorithm never reaches is an error, not a panic.

const ALPHABET: usize = 256;
const TOTAL_NODES: usize = 2 * ALPHABET - 1;
const TOTAL_BLOCKS: usize = 2 * TOTAL_NODES;

type Result<T> = std::result::Result<T, &'static str>;

const BROKEN: &str = "FGK tree in a state its encoder never writes";

/// One node: a leaf (the first [`ALPHABET`]) or an internal node. Leaves of weight zero
/// form a list through `left_child`/`right_child`.
#[derive(Debug, Clone, Copy, Default)]
struct Node {
    weight: u32,
    parent: Option<usize>,
    left_child: Option<usize>,
    right_child: Option<usize>,
    /// Neighbours in the order of weights.
    left: Option<usize>,
    right: Option<usize>,
    block: Option<usize>,
}

/// One section kind's decoder.
pub(crate) struct Fgk {
    nodes: Vec<Node>,
    /// Each block's leader (blocks in use), and the free list (blocks not in use).
    leaders: Vec<Option<usize>>,
    free_next: Vec<Option<usize>>,
    free_block: Option<usize>,
    zero_count: usize,
    zero_exp: usize,
    zero_rem: usize,
    coded: [u8; 16],
    depth: usize,
    decode_at: usize,
    remaining_zeros: Option<usize>,
    root: usize,
    free_node: usize,
}

impl Fgk {
    /// A decoder with every byte unseen (`fgk_init`).
    pub(crate) fn new() -> Self {
        let mut nodes = vec![Node::default(); TOTAL_NODES];
        for (i, node) in nodes.iter_mut().enumerate().take(ALPHABET) {
            node.right_child = (i < ALPHABET - 1).then_some(i + 1);
            node.left_child = i.checked_sub(1);
        }
        let mut fgk = Fgk {
            nodes,
            leaders: vec![None; TOTAL_BLOCKS],
            free_next: (1..=TOTAL_BLOCKS)
                .map(|b| (b < TOTAL_BLOCKS).then_some(b))
                .collect(),
            free_block: Some(0),
            zero_count: ALPHABET + 2,
            zero_exp: 0,
            zero_rem: 0,
            coded: [0; 16],
            depth: 0,
            decode_at: 0,
            remaining_zeros: Some(0),
            root: 0,
            free_node: ALPHABET,
        };
        fgk.factor_remaining();
        fgk.factor_remaining();
        fgk
    }

    /// Decodes one section, `input`, which must fill `out` exactly and be consumed whole
    /// (`xd3_decode_fgk`): bits least significant first; after the last symbol, the rest of
    /// its byte is padding.
    pub(crate) fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> Result<()> {
        if out.is_empty() {
            return Err("FGK section of no bytes");
        }
        let mut written = 0;
        for (i, &byte) in input.iter().enumerate() {
            for bit in 0..8 {
                if !self.decode_bit((byte >> bit) & 1 == 1)? {
                    continue;
                }
                out[written] = u8::try_from(self.decode_data()?).map_err(|_| BROKEN)?;
                written += 1;
                if written == out.len() {
                    return if i + 1 == input.len() {
                        Ok(())
                    } else {
                        Err("FGK section has bytes past its declared size")
                    };
                }
            }
        }
        Err("FGK section ends short of its declared size")
    }

    fn node(&self, i: Option<usize>) -> Result<&Node> {
        i.and_then(|i| self.nodes.get(i)).ok_or(BROKEN)
    }

    fn node_mut(&mut self, i: Option<usize>) -> Result<&mut Node> {
        i.and_then(|i| self.nodes.get_mut(i)).ok_or(BROKEN)
    }

    /// Takes one bit; true when a symbol is complete (`fgk_decode_bit`).
    fn decode_bit(&mut self, bit: bool) -> Result<bool> {
        let at = self.nodes[self.decode_at];
        if at.weight == 0 {
            let wanted = self.zero_exp + usize::from(self.zero_rem != 0);
            *self.coded.get_mut(self.depth).ok_or(BROKEN)? = u8::from(bit);
            self.depth += 1;
            return Ok(self.depth >= wanted);
        }
        let next = if bit { at.right_child } else { at.left_child };
        self.decode_at = next.ok_or(BROKEN)?;
        let node = self.node(next)?;
        if node.left_child.is_some() {
            return Ok(false);
        }
        Ok(node.weight != 0 || self.zero_count == 1)
    }

    /// The symbol the bits since the last one name; updates the tree (`fgk_decode_data`).
    fn decode_data(&mut self) -> Result<usize> {
        let mut element = self.decode_at;
        if self.nodes[element].weight == 0 {
            let bits = &self.coded[..self.depth.max(1)];
            let n = bits.iter().fold(0usize, |n, &b| n << 1 | usize::from(b));
            element = self.nth_zero(n)?;
        }
        self.depth = 0;
        self.update_tree(element)?;
        self.decode_at = self.root;
        Ok(element)
    }

    fn nth_zero(&self, mut n: usize) -> Result<usize> {
        let mut at = self.remaining_zeros.ok_or(BROKEN)?;
        while n != 0 {
            match self.nodes[at].right_child {
                Some(next) => at = next,
                None => break,
            }
            n -= 1;
        }
        Ok(at)
    }

    fn factor_remaining(&mut self) {
        self.zero_count -= 1;
        let mut i = self.zero_count;
        self.zero_exp = 0;
        while i > 1 {
            self.zero_exp += 1;
            i >>= 1;
        }
        self.zero_rem = self.zero_count - (1 << self.zero_exp);
    }

    fn make_block(&mut self, lead: usize) -> Result<usize> {
        let block = self.free_block.ok_or(BROKEN)?;
        self.free_block = self.free_next[block];
        self.leaders[block] = Some(lead);
        Ok(block)
    }

    fn free_block(&mut self, block: Option<usize>) -> Result<()> {
        let block = block.ok_or(BROKEN)?;
        self.free_next[block] = self.free_block;
        self.free_block = Some(block);
        Ok(())
    }

    /// After symbol `n` (`fgk_update_tree`).
    fn update_tree(&mut self, n: usize) -> Result<()> {
        let mut increment = if self.node(Some(n))?.weight == 0 {
            self.increase_zero_weight(n)?
        } else {
            n
        };
        while increment != self.root {
            self.move_right(increment)?;
            self.promote(increment)?;
            self.nodes[increment].weight += 1;
            increment = self.nodes[increment].parent.ok_or(BROKEN)?;
        }
        self.nodes[self.root].weight += 1;
        Ok(())
    }

    /// Swaps `fwd` with the leader of its block, in the order and in the tree
    /// (`fgk_move_right`).
    fn move_right(&mut self, fwd: usize) -> Result<()> {
        let block = self.nodes[fwd].block.ok_or(BROKEN)?;
        let back = self.leaders[block].ok_or(BROKEN)?;
        if fwd == back || self.nodes[fwd].parent == Some(back) || self.nodes[fwd].weight == 0 {
            return Ok(());
        }
        let back_right = self.nodes[back].right;
        self.node_mut(back_right)?.left = Some(fwd);
        if let Some(l) = self.nodes[fwd].left {
            self.nodes[l].right = Some(back);
        }
        let tmp = self.nodes[fwd].right;
        self.nodes[fwd].right = self.nodes[back].right;
        if tmp == Some(back) {
            self.nodes[back].right = Some(fwd);
        } else {
            self.node_mut(tmp)?.left = Some(back);
            self.nodes[back].right = tmp;
        }
        let tmp = self.nodes[back].left;
        self.nodes[back].left = self.nodes[fwd].left;
        if tmp == Some(fwd) {
            self.nodes[fwd].left = Some(back);
        } else {
            self.node_mut(tmp)?.right = Some(fwd);
            self.nodes[fwd].left = tmp;
        }
        let (fwd_parent, back_parent) = (self.nodes[fwd].parent, self.nodes[back].parent);
        let fwd_is_right = self.node(fwd_parent)?.right_child == Some(fwd);
        let back_is_right = self.node(back_parent)?.right_child == Some(back);
        self.nodes[fwd].parent = back_parent;
        self.nodes[back].parent = fwd_parent;
        *child_slot(self.node_mut(fwd_parent)?, fwd_is_right) = Some(back);
        *child_slot(self.node_mut(back_parent)?, back_is_right) = Some(fwd);
        self.leaders[block] = Some(fwd);
        Ok(())
    }

    /// Moves `node`, the leader of its block, into the next block (`fgk_promote`).
    fn promote(&mut self, node: usize) -> Result<()> {
        let Node {
            weight,
            left,
            right,
            left_child,
            right_child,
            block,
            ..
        } = self.nodes[node];
        if weight == 0 {
            return Ok(());
        }
        // Whether it joins the block to its right: one less than its right neighbour,
        // which is not the root.
        let joins_right = |fgk: &Self| -> Result<Option<Option<usize>>> {
            let right_node = fgk.node(right)?;
            let joins = weight == right_node.weight.wrapping_sub(1) && right != Some(fgk.root);
            Ok(joins.then_some(right_node.block))
        };
        if left == right_child && left_child.is_some_and(|c| self.nodes[c].weight == 0) {
            if let Some(right_block) = joins_right(self)? {
                self.free_block(block)?;
                self.nodes[node].block = right_block;
                self.node_mut(left)?.block = right_block;
            }
            return Ok(());
        }
        if left == self.remaining_zeros {
            return Ok(());
        }
        if self.node(left)?.block == block {
            self.leaders[block.ok_or(BROKEN)?] = left;
        } else {
            self.free_block(block)?;
        }
        self.nodes[node].block = match joins_right(self)? {
            Some(right_block) => right_block,
            None => Some(self.make_block(node)?),
        };
        Ok(())
    }

    /// Takes `n` off the list of unseen leaves, under a new internal node
    /// (`fgk_increase_zero_weight`).
    fn increase_zero_weight(&mut self, n: usize) -> Result<usize> {
        if self.zero_count == 1 {
            self.nodes[n].right_child = None;
            let right = self.nodes[n].right;
            self.nodes[n].block = if self.node(right)?.weight == 1 {
                self.node(right)?.block
            } else {
                Some(self.make_block(n)?)
            };
            self.remaining_zeros = None;
            return Ok(n);
        }
        let zero = self.remaining_zeros.ok_or(BROKEN)?;
        let internal = self.free_node;
        if internal >= TOTAL_NODES {
            return Err(BROKEN);
        }
        self.free_node += 1;
        self.nodes[internal] = Node {
            weight: 0,
            parent: self.nodes[zero].parent,
            right: self.nodes[zero].right,
            right_child: Some(n),
            left: Some(n),
            ..Node::default()
        };
        if Some(self.root) == self.remaining_zeros {
            // The first symbol of the stream.
            self.root = internal;
            self.nodes[n].block = Some(self.make_block(n)?);
            self.nodes[internal].block = Some(self.make_block(internal)?);
        } else {
            let right = self.nodes[internal].right;
            self.node_mut(right)?.left = Some(internal);
            let parent = self.nodes[zero].parent;
            let parent_node = self.node_mut(parent)?;
            if parent_node.right_child == Some(zero) {
                parent_node.right_child = Some(internal);
            } else {
                parent_node.left_child = Some(internal);
            }
            self.nodes[internal].block = if self.node(right)?.weight == 1 {
                self.node(right)?.block
            } else {
                Some(self.make_block(internal)?)
            };
            self.nodes[n].block = self.nodes[internal].block;
        }
        self.eliminate_zero(n)?;
        let zeros = self.remaining_zeros;
        self.nodes[internal].left_child = zeros;
        let leaf = &mut self.nodes[n];
        leaf.right = Some(internal);
        leaf.left = zeros;
        leaf.parent = Some(internal);
        leaf.left_child = None;
        leaf.right_child = None;
        let head = self.node_mut(zeros)?;
        head.parent = Some(internal);
        head.right = Some(n);
        Ok(n)
    }

    /// Splices `node` out of the list of unseen leaves (`fgk_eliminate_zero`).
    fn eliminate_zero(&mut self, node: usize) -> Result<()> {
        if self.zero_count == 1 {
            return Ok(());
        }
        self.factor_remaining();
        let Node {
            left_child,
            right_child,
            ..
        } = self.nodes[node];
        match (left_child, right_child) {
            (None, _) => {
                let next = self.node(self.remaining_zeros)?.right_child;
                self.remaining_zeros = next;
                self.node_mut(next)?.left_child = None;
            }
            (Some(l), None) => self.nodes[l].right_child = None,
            (Some(l), Some(r)) => {
                self.nodes[r].left_child = Some(l);
                self.nodes[l].right_child = Some(r);
            }
        }
        Ok(())
    }
}

/// A node's right or left child link.
fn child_slot(node: &mut Node, right: bool) -> &mut Option<usize> {
    if right {
        &mut node.right_child
    } else {
        &mut node.left_child
    }
}
