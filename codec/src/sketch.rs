//! Similarity sketches: a cheap estimate of how much of one byte string also occurs in
//! another, to choose between references and to skip encodes that cannot pay.
//!
//! Sampling is content-defined: a gear rolling hash runs over the input, and wherever its
//! top `k` bits are zero the hash (a function of the preceding 64 bytes only) is a sample.
//! A region shared by two inputs yields the same samples in both, wherever it lies, so the
//! share of a target's samples found in a reference's estimates the share of the target a
//! delta can copy from it. Hashing runs at memory speed (no allocation per byte) and a
//! sketch holds at most [`Sketch::MAX_SAMPLES`] samples whatever the input size: `k` grows
//! with the input, and a coarser sketch is comparable with a finer one by dropping the
//! finer one's extra samples.

/// The gear table: 256 pseudo-random words (splitmix64), fixed forever so that sketches of
/// the same bytes agree across versions and platforms.
const GEAR: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut i = 0;
    while i < 256 {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        table[i] = z ^ (z >> 31);
        i += 1;
    }
    table
};

/// The finest sampling: one sample per 2^6 = 64 bytes on average.
const MIN_LEVEL: u32 = 6;

/// Fewer target samples than this and the estimate means nothing.
const MIN_SAMPLES: usize = 16;

/// A content-defined sample of a byte string's 64-byte contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sketch {
    /// Samples are hashes whose top `level` bits are zero.
    level: u32,
    /// Sorted, without duplicates.
    samples: Vec<u64>,
}

impl Sketch {
    /// The most samples a sketch keeps (about 512 KiB of memory).
    pub const MAX_SAMPLES: usize = 1 << 16;

    /// The sketch of `data`.
    pub fn of(data: &[u8]) -> Self {
        let mut level = MIN_LEVEL;
        while (data.len() >> level) > Self::MAX_SAMPLES {
            level += 1;
        }
        let shift = 64 - level;
        let mut samples = Vec::with_capacity((data.len() >> level) + 16);
        let mut hash = 0u64;
        for &byte in data {
            hash = (hash << 1).wrapping_add(GEAR[usize::from(byte)]);
            if hash >> shift == 0 {
                samples.push(hash);
            }
        }
        samples.sort_unstable();
        samples.dedup();
        // Content-defined sampling can overshoot on adversarial input: keep the bound by
        // coarsening until it holds.
        while samples.len() > Self::MAX_SAMPLES && level < 63 {
            level += 1;
            samples.retain(|h| h >> (64 - level) == 0);
        }
        Self { level, samples }
    }

    /// The number of distinct samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the sketch holds no sample (an input of a few hundred bytes or less).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The share of this sketch's (a target's) samples that `reference` also has, in
    /// `[0, 1]`: roughly the share of the target a delta against `reference` can copy.
    /// `None` when the target is too small to tell.
    pub fn similarity(&self, reference: &Sketch) -> Option<f64> {
        let level = self.level.max(reference.level);
        let shift = 64 - level;
        let mut total = 0usize;
        let mut found = 0usize;
        for sample in self.samples.iter().filter(|h| *h >> shift == 0) {
            total += 1;
            if reference.samples.binary_search(sample).is_ok() {
                found += 1;
            }
        }
        (total >= MIN_SAMPLES).then(|| found as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn identical_similar_and_unrelated() {
        let a = noise(1 << 20, 1);
        let sa = Sketch::of(&a);
        assert!(sa.len() > 10_000);
        assert_eq!(sa.similarity(&sa), Some(1.0));
        let mut b = a.clone();
        for at in (0..b.len()).step_by(100_000) {
            b[at..at + 100].copy_from_slice(&noise(100, at as u64));
        }
        let s = Sketch::of(&b).similarity(&sa).expect("big enough");
        assert!(s > 0.95, "{s}");
        let unrelated = Sketch::of(&noise(1 << 20, 2)).similarity(&sa).expect("big");
        assert!(unrelated < 0.01, "{unrelated}");
    }

    #[test]
    fn half_shared_reads_about_half() {
        let a = noise(1 << 20, 3);
        let mut b = a[..1 << 19].to_vec();
        b.extend_from_slice(&noise(1 << 19, 4));
        let s = Sketch::of(&b).similarity(&Sketch::of(&a)).expect("big");
        assert!((0.4..0.6).contains(&s), "{s}");
    }

    #[test]
    fn moved_content_is_still_found() {
        let a = noise(1 << 20, 5);
        let mut b = a[1 << 19..].to_vec();
        b.extend_from_slice(&a[..1 << 19]);
        let s = Sketch::of(&b).similarity(&Sketch::of(&a)).expect("big");
        assert!(s > 0.99, "{s}");
    }

    #[test]
    fn bounded_and_comparable_across_sizes() {
        let big = noise(16 << 20, 6);
        let sketch = Sketch::of(&big);
        assert!(sketch.len() <= Sketch::MAX_SAMPLES);
        assert!(sketch.level > MIN_LEVEL);
        // A small target taken from the big reference: sketched at a finer level.
        let part = Sketch::of(&big[1 << 20..3 << 20]);
        assert!(part.level < sketch.level);
        let s = part.similarity(&sketch).expect("big enough");
        assert!(s > 0.95, "{s}");
        // Constant input: one distinct context at most.
        assert!(Sketch::of(&vec![0u8; 1 << 20]).len() <= 1);
        assert_eq!(Sketch::of(b"tiny").similarity(&sketch), None);
    }
}
