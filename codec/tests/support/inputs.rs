//! Deterministic test inputs, generated the same way by `fixtures/deflate/generate.*`.

/// xorshift64* — small, fast and easy to write identically in Python and JavaScript.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `n` random bytes.
pub(crate) fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| (rng.next() >> 56) as u8).collect()
}

/// Text-like data of `n` bytes: words from a small vocabulary, with runs and repeats,
/// so all match lengths and distances occur.
pub(crate) fn text(n: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "the ",
        "deflate ",
        "zlib ",
        "window ",
        "match ",
        "lazy ",
        "hash ",
        "chain ",
        "block ",
        "tree ",
        "huffman ",
        "\n",
        "0000000000",
        "fn main() {",
        "}",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n + 64);
    while out.len() < n {
        let r = rng.next();
        match r % 10 {
            0 if out.len() > 300 => {
                // Copy an earlier stretch: long matches at varied distances.
                let len = 3 + (r >> 8) as usize % 300;
                let dist = 1 + (r >> 20) as usize % out.len().min(40_000);
                let start = out.len() - dist;
                for i in 0..len {
                    out.push(out[start + i]);
                }
            }
            1 => out.push((r >> 32) as u8),
            _ => out.extend_from_slice(WORDS[(r >> 40) as usize % WORDS.len()].as_bytes()),
        }
    }
    out.truncate(n);
    out
}
