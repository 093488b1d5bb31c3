//! Inputs shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `base` with about `per_mille`‰ of its bytes changed in small scattered runs, some
/// insertions and some deletions.
pub fn edited(base: &[u8], seed: u64, per_mille: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(base.len() + 64);
    let r = noise(seed, base.len() / 64 + 16);
    let mut i = 0;
    let mut k = 0;
    let stride = (64_000 / per_mille.max(1)).max(64);
    while i < base.len() {
        let next = (i + stride / 2 + (r[k % r.len()] as usize * stride / 256)).min(base.len());
        out.extend_from_slice(&base[i..next]);
        i = next;
        match r[(k + 1) % r.len()] % 3 {
            0 => out.extend_from_slice(&noise(seed + k as u64, 32)),
            1 => i = (i + 32).min(base.len()),
            _ => {
                out.extend_from_slice(&noise(seed + k as u64, 32));
                i = (i + 32).min(base.len());
            }
        }
        k += 2;
    }
    out
}
