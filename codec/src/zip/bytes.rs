//! Little-endian fields read at an offset, `None` past the end: every length in a zip file
//! is attacker-controlled, so no read may index directly.

/// The `N` bytes at `at`, if they are all inside `bytes`.
pub(super) fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    let end = at.checked_add(N)?;
    bytes.get(at..end)?.try_into().ok()
}

/// The `u16` at `at`.
pub(super) fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    array(bytes, at).map(u16::from_le_bytes)
}

/// The `u32` at `at`.
pub(super) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    array(bytes, at).map(u32::from_le_bytes)
}

/// The `u64` at `at`.
pub(super) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    array(bytes, at).map(u64::from_le_bytes)
}

/// Whether the four bytes at `at` are `signature`.
pub(super) fn has_signature(bytes: &[u8], at: usize, signature: [u8; 4]) -> bool {
    array(bytes, at) == Some(signature)
}

/// `base + delta` as a file position, `None` when it overflows or does not fit a `usize`.
pub(super) fn offset(base: usize, delta: u64) -> Option<usize> {
    base.checked_add(usize::try_from(delta).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end() {
        let b = [1, 2, 3, 4, 5];
        assert_eq!(u16_at(&b, 3), Some(0x0504));
        assert_eq!(u16_at(&b, 4), None);
        assert_eq!(u32_at(&b, usize::MAX), None);
        assert_eq!(u64_at(&b, 0), None);
        assert!(has_signature(&b, 1, [2, 3, 4, 5]));
        assert!(!has_signature(&b, 2, [3, 4, 5, 0]));
        assert_eq!(offset(usize::MAX, 1), None);
        assert_eq!(offset(2, 3), Some(5));
    }
}
