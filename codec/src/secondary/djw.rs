//! xdelta3's DJW secondary compressor (`-S djw`): semi-static Huffman coding with up to 8
//! code tables chosen per sector, the tables' code lengths themselves coded with
//! move-to-front and run lengths, as `xdelta3-djw.h` decodes it. Each section stands
//! alone (no state from window to window). Every table read is bounds-checked: hostile
//! input is an error, never a read outside the tables.

/// Symbols of the coded bytes.
const ALPHABET: usize = 256;
/// Longest code of a byte.
const MAX_CODELEN: usize = 20;
/// Code lengths 0..=20, plus the two run symbols, as coded in the prefix.
const TOTAL_CODES: usize = MAX_CODELEN + 2;
/// Run symbols of the MTF + 1/2 coding.
const RUN_1: usize = 1;
/// Code-length codes always sent, and how many more there may be.
const BASIC_CODES: usize = 5;
const EXTRA_CODES: usize = 15;
const EXTRA_OFFSET: usize = BASIC_CODES + 2;
const EXTRA_CODE_BITS: u32 = 4;
const MAX_GROUPS: usize = 8;
const GROUP_BITS: u32 = 3;
const SECTOR_MULT: usize = 5;
const SECTOR_BITS: u32 = 5;
/// Longest code of a code length, and the bits that send one.
const MAX_CLCLEN: usize = 15;
const CLCLEN_BITS: u32 = 4;
/// Longest code of a group selector, and the bits that send one.
const MAX_GBCLEN: usize = 7;
const GBCLEN_BITS: u32 = 3;
/// The initial move-to-front order of code lengths (xdelta3's `djw_encode_12basic` and
/// `djw_encode_12extra`, after 0).
const CLEN_MTF: [u8; 1 + BASIC_CODES + EXTRA_CODES] = [
    0, 4, 5, 6, 7, 8, 9, 10, 3, 11, 2, 12, 13, 1, 14, 15, 16, 17, 18, 19, 20,
];

type Result<T> = std::result::Result<T, &'static str>;

/// Bits read least significant first within each byte, as xdelta3 writes them.
struct Bits<'a> {
    input: &'a [u8],
    pos: usize,
    byte: u8,
    /// The next bit's mask; 0x100 when the next bit is in the next byte.
    mask: u16,
}

impl<'a> Bits<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            byte: 0,
            mask: 0x100,
        }
    }

    fn bit(&mut self) -> Result<bool> {
        if self.mask == 0x100 {
            self.byte = *self.input.get(self.pos).ok_or("DJW section ends early")?;
            self.pos += 1;
            self.mask = 1;
        }
        let set = u16::from(self.byte) & self.mask != 0;
        self.mask <<= 1;
        Ok(set)
    }

    /// An `n`-bit value, most significant bit first.
    fn value(&mut self, n: u32) -> Result<usize> {
        let mut value = 0;
        for _ in 0..n {
            value = (value << 1) | usize::from(self.bit()?);
        }
        Ok(value)
    }
}

/// A canonical Huffman decoder built from code lengths (`djw_build_decoder`).
struct Code {
    /// Symbols in code order.
    inorder: Vec<u8>,
    base: [usize; TOTAL_CODES + 1],
    limit: [usize; TOTAL_CODES + 1],
    min_len: usize,
    max_len: usize,
}

impl Code {
    /// The decoder for symbols `0..lengths.len()` with these code lengths (each at most
    /// `max`, which the callers guarantee by how they read them).
    fn new(lengths: &[u8], max: usize) -> Self {
        let mut count = [0usize; TOTAL_CODES + 1];
        for &len in lengths {
            count[usize::from(len).min(max)] += 1;
        }
        let min_len = (1..=max).find(|&l| count[l] != 0).unwrap_or(max + 1);
        let max_len = (1..=max).rev().find(|&l| count[l] != 0).unwrap_or(0);
        let mut code = Code {
            inorder: Vec::new(),
            base: [0; TOTAL_CODES + 1],
            limit: [0; TOTAL_CODES + 1],
            min_len,
            max_len,
        };
        if max_len == 0 {
            // No symbol has a code: every decode fails.
            return code;
        }
        let mut next = [0usize; TOTAL_CODES + 1];
        code.limit[min_len] = count[min_len] - 1;
        for len in min_len + 1..=max_len {
            // Wrapping as in the C: a hostile, over-full set of lengths gives tables that
            // decode garbage (caught by the offset check), never an overflow.
            let last_limit = code.limit[len - 1].wrapping_add(1) << 1;
            next[len] = next[len - 1] + count[len - 1];
            code.limit[len] = last_limit.wrapping_add(count[len]).wrapping_sub(1);
            code.base[len] = last_limit.wrapping_sub(next[len]);
        }
        code.inorder = vec![0; lengths.len()];
        for (symbol, &len) in lengths.iter().enumerate() {
            let len = usize::from(len);
            if len != 0 && len <= max {
                code.inorder[next[len]] = symbol as u8;
                next[len] += 1;
            }
        }
        code.inorder.truncate(next[max_len]);
        code
    }

    /// The next symbol (`djw_decode_symbol`).
    fn decode(&self, bits: &mut Bits<'_>) -> Result<usize> {
        let (mut code, mut len) = (0usize, 0usize);
        loop {
            if len == self.max_len {
                return Err("DJW section has an invalid code");
            }
            len += 1;
            code = (code << 1) | usize::from(bits.bit()?);
            if len >= self.min_len && code <= self.limit[len] {
                break;
            }
        }
        code.checked_sub(self.base[len])
            .and_then(|offset| self.inorder.get(offset))
            .map(|&symbol| usize::from(symbol))
            .ok_or("DJW section has an invalid code")
    }
}

/// Fills `values` with symbols coded by move-to-front and 1/2 run lengths
/// (`djw_decode_1_2`). With `skip`, a value whose counterpart `skip` places earlier is 0
/// is 0 without being coded (the later groups' unused bytes).
fn decode_mtf(
    bits: &mut Bits<'_>,
    code: &Code,
    mtf: &mut [u8],
    values: &mut [u8],
    skip: usize,
) -> Result<()> {
    let invalid = "DJW section has an invalid repeat code";
    let (mut n, mut repeat, mut pending, mut shift) = (0usize, 0usize, 0usize, 0u32);
    while n < values.len() {
        if skip != 0 && n >= skip && values[n - skip] == 0 {
            values[n] = 0;
            n += 1;
        } else if repeat != 0 {
            values[n] = mtf[0];
            n += 1;
            repeat -= 1;
        } else if pending != 0 {
            let position = pending;
            let symbol = *mtf.get(position).ok_or(invalid)?;
            mtf.copy_within(0..position, 1);
            mtf[0] = symbol;
            values[n] = symbol;
            n += 1;
            pending = 0;
        } else {
            let symbol = code.decode(bits)?;
            if symbol <= RUN_1 {
                repeat = (symbol + 1).checked_shl(shift).ok_or(invalid)?;
                if repeat == 0 || repeat > values.len() {
                    return Err(invalid);
                }
                shift += 1;
            } else {
                pending = symbol - 1;
                shift = 0;
            }
        }
    }
    if repeat != 0 {
        return Err(invalid);
    }
    Ok(())
}

/// Decodes one DJW section, `input`, which must fill `out` exactly and be consumed whole.
pub(crate) fn decompress(input: &[u8], out: &mut [u8]) -> Result<()> {
    if out.is_empty() {
        return Err("DJW section of no bytes");
    }
    let mut bits = Bits::new(input);
    let groups = bits.value(GROUP_BITS)? + 1;
    let sector = if groups > 1 {
        (bits.value(SECTOR_BITS)? + 1) * SECTOR_MULT
    } else {
        out.len()
    };
    // The code-length code: its lengths, then each group's 256 code lengths through it.
    let mut cl_lengths = [0u8; TOTAL_CODES];
    let sent = bits.value(EXTRA_CODE_BITS)? + EXTRA_OFFSET;
    for length in cl_lengths.iter_mut().take(sent) {
        *length = bits.value(CLCLEN_BITS)? as u8;
    }
    let cl_code = Code::new(&cl_lengths, MAX_CLCLEN);
    let mut cl_mtf = [0u8; TOTAL_CODES];
    cl_mtf[..CLEN_MTF.len()].copy_from_slice(&CLEN_MTF);
    let mut lengths = vec![0u8; ALPHABET * groups];
    decode_mtf(&mut bits, &cl_code, &mut cl_mtf, &mut lengths, ALPHABET)?;
    if lengths.iter().any(|&l| usize::from(l) > MAX_CODELEN) {
        return Err("DJW section has an invalid code length");
    }
    let codes: Vec<Code> = lengths
        .chunks(ALPHABET)
        .map(|group| Code::new(group, MAX_CODELEN))
        .collect();
    let sectors = out.len().div_ceil(sector);
    // Which group's code each sector uses.
    let mut selectors = vec![0u8; if groups > 1 { sectors } else { 0 }];
    if groups > 1 {
        let mut sel_lengths = [0u8; MAX_GROUPS + 1];
        let mut sel_mtf = [0u8; MAX_GROUPS + 2];
        for g in 0..=groups {
            sel_lengths[g] = bits.value(GBCLEN_BITS)? as u8;
            sel_mtf[g] = g as u8;
        }
        let sel_code = Code::new(&sel_lengths[..=groups], MAX_GBCLEN);
        decode_mtf(&mut bits, &sel_code, &mut sel_mtf, &mut selectors, 0)?;
    }
    for (index, chunk) in out.chunks_mut(sector).enumerate() {
        let group = selectors.get(index).map_or(0, |&g| usize::from(g));
        let code = codes
            .get(group)
            .ok_or("DJW section selects a missing group")?;
        for byte in chunk {
            *byte = code.decode(&mut bits)? as u8;
        }
    }
    if bits.pos != input.len() {
        return Err("DJW section has bytes past its declared size");
    }
    Ok(())
}
