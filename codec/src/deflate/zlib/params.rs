//! Encoder parameters: what `deflateInit2` accepts, and the per-level tuning table.

/// `deflateInit2`'s `strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// `Z_DEFAULT_STRATEGY`.
    Default,
    /// `Z_FILTERED`: drop matches of 5 bytes or fewer (lazy levels 4–9 only).
    Filtered,
    /// `Z_HUFFMAN_ONLY`: literals only.
    HuffmanOnly,
    /// `Z_RLE`: matches at distance 1 only.
    Rle,
    /// `Z_FIXED`: fixed Huffman codes (or stored blocks when smaller).
    Fixed,
}

impl Strategy {
    /// All strategies, in the order of zlib's numbers.
    pub const ALL: [Strategy; 5] = [
        Self::Default,
        Self::Filtered,
        Self::HuffmanOnly,
        Self::Rle,
        Self::Fixed,
    ];

    /// zlib's number for it (`Z_DEFAULT_STRATEGY` = 0 … `Z_FIXED` = 4).
    pub fn zlib_value(self) -> u8 {
        self as u8
    }

    /// The strategy zlib numbers `n`.
    pub fn from_zlib_value(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }
}

/// Which zlib wrote the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// madler zlib 1.2.12 to 1.3.1 (Python, most C tools, flate2's zlib backend).
    Zlib,
    /// Chromium's zlib as Node.js bundles it (npm): a 4-byte multiplicative hash and at
    /// least 15 hash bits, otherwise zlib's algorithm. Checked against Node 20 (Chromium
    /// zlib 1.3.1-e00f703) on x86-64; Chromium builds that fall back to zlib's rolling
    /// hash (older ones, on CPUs without SSE4.2 or ARMv8 CRC32) write what
    /// [`Flavor::Zlib`] writes.
    Chromium,
    /// GNU gzip's own deflate (the `gzip` command, 1.6–1.13, so `tar czf`): zlib's
    /// ancestor, with 15 hash bits, blocks of up to 32 767 symbols cut early where its
    /// estimate says the block compresses well, and no lookahead guards at the end of
    /// the input. It takes levels 1–9 with zlib's defaults for the other parameters.
    Gnu,
}

/// What `deflateInit2(level, Z_DEFLATED, -window_bits, mem_level, strategy)` was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZlibParams {
    /// Compression level, 0..=9 (zlib's `Z_DEFAULT_COMPRESSION` is 6).
    pub level: u8,
    /// Window size as a power of two, 9..=15; 8 is taken as 9, as zlib does.
    pub window_bits: u8,
    /// Memory level, 1..=9: hash table size and block length (zlib's default is 8).
    pub mem_level: u8,
    /// Match-finding strategy.
    pub strategy: Strategy,
    /// Which implementation.
    pub flavor: Flavor,
}

impl ZlibParams {
    /// zlib's defaults at `level`: 15 window bits, memory level 8, default strategy.
    pub fn new(level: u8, flavor: Flavor) -> Self {
        Self {
            level,
            window_bits: 15,
            mem_level: 8,
            strategy: Strategy::Default,
            flavor,
        }
    }

    /// Whether zlib would accept these parameters (`deflateInit2` returns `Z_OK`).
    pub fn is_valid(&self) -> bool {
        match self.flavor {
            // gzip has levels 1–9 and nothing else to set.
            Flavor::Gnu => {
                (1..=9).contains(&self.level)
                    && (self.window_bits, self.mem_level, self.strategy)
                        == (15, 8, Strategy::Default)
            }
            Flavor::Zlib | Flavor::Chromium => {
                self.level <= 9
                    && (8..=15).contains(&self.window_bits)
                    && (1..=9).contains(&self.mem_level)
            }
        }
    }

    /// Window bits as zlib uses them (8 becomes 9).
    pub(super) fn effective_window_bits(&self) -> u8 {
        self.window_bits.max(9)
    }

    /// Hash table bits: `mem_level + 7`, raised to 15 by Chromium's fast hash; gzip's
    /// `HASH_BITS` is 15.
    pub(super) fn hash_bits(&self) -> u8 {
        let bits = self.mem_level + 7;
        match self.flavor {
            Flavor::Zlib => bits,
            Flavor::Chromium => bits.max(15),
            Flavor::Gnu => 15,
        }
    }

    /// Symbols a block holds before it must be flushed: zlib's `lit_bufsize - 1`, gzip's
    /// `LIT_BUFSIZE - 1` (its `DIST_BUFSIZE` of matches cannot be reached first).
    pub(super) fn block_symbols(&self) -> usize {
        match self.flavor {
            Flavor::Zlib | Flavor::Chromium => (1 << (self.mem_level + 6)) - 1,
            Flavor::Gnu => 0x8000 - 1,
        }
    }
}

/// One row of zlib's `configuration_table`.
#[derive(Clone, Copy)]
pub(super) struct Tuning {
    /// Reduce lazy search above this match length.
    pub(super) good_length: usize,
    /// Do not perform lazy search above this match length (levels 4–9); insert new
    /// strings only for matches up to this length (levels 1–3).
    pub(super) max_lazy: usize,
    /// Quit search above this match length.
    pub(super) nice_length: usize,
    /// Hash chain steps.
    pub(super) max_chain: usize,
}

/// zlib's `configuration_table` for levels 1..=9 (level 0 stores).
pub(super) fn tuning(level: u8) -> Tuning {
    let (good_length, max_lazy, nice_length, max_chain) = match level {
        1 => (4, 4, 8, 4),
        2 => (4, 5, 16, 8),
        3 => (4, 6, 32, 32),
        4 => (4, 4, 16, 16),
        5 => (8, 16, 32, 32),
        6 => (8, 16, 128, 128),
        7 => (8, 32, 128, 256),
        8 => (32, 128, 258, 1024),
        _ => (32, 258, 258, 4096),
    };
    Tuning {
        good_length,
        max_lazy,
        nice_length,
        max_chain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_and_derived_sizes_follow_deflate_init2() {
        let p = ZlibParams::new(6, Flavor::Zlib);
        assert!(p.is_valid());
        assert!(!ZlibParams { level: 10, ..p }.is_valid());
        assert!(!ZlibParams { mem_level: 0, ..p }.is_valid());
        assert!(
            !ZlibParams {
                window_bits: 16,
                ..p
            }
            .is_valid()
        );
        assert_eq!(
            ZlibParams {
                window_bits: 8,
                ..p
            }
            .effective_window_bits(),
            9
        );
        assert_eq!(ZlibParams { mem_level: 1, ..p }.hash_bits(), 8);
        let chromium = ZlibParams {
            mem_level: 1,
            flavor: Flavor::Chromium,
            ..p
        };
        assert_eq!(chromium.hash_bits(), 15);
        assert_eq!(
            ZlibParams {
                mem_level: 9,
                ..chromium
            }
            .hash_bits(),
            16
        );
    }
}
