//! Ordering of user keys in a listing of stored keys.
//!
//! A user key `K` stored as `K.delta` appears in the backend's listing at the position of
//! `K.delta`, which can come after user keys greater than `K` (`v1.delta` sorts after
//! `v1.2.delta`, yet `v1 < v1.2`). While merging, an entry may be emitted only once no
//! stored key still to come can map to a smaller user key.

use crate::stored::keys::DELTA_SUFFIX;

/// The smallest user key that a stored key at or after `cursor` can map to: the shortest
/// prefix `u` of `cursor` with `u + ".delta" >= cursor` (a key not ending in `.delta` maps
/// to itself, which is at least `cursor`, and so at least this prefix).
pub(crate) fn lower_bound(cursor: &str) -> &str {
    (0..=cursor.len())
        .filter(|&k| cursor.is_char_boundary(k))
        .find(|&k| DELTA_SUFFIX.as_bytes() >= &cursor.as_bytes()[k..])
        .map_or(cursor, |k| &cursor[..k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        // After v1.2.delta, v1.delta (user key v1) may still come.
        assert_eq!(lower_bound("v1.2.delta"), "v1");
        // After v1-x.delta, v1.delta may still come ('-' sorts before '.').
        assert_eq!(lower_bound("v1-x.delta"), "v1");
        assert_eq!(lower_bound("b"), "b");
        assert_eq!(lower_bound("-x"), "");
        assert_eq!(lower_bound("a/b.zip"), "a/b.zip");
        assert_eq!(lower_bound("a/b.zip.delta"), "a/b.zip");
        assert_eq!(lower_bound(""), "");
    }

    #[test]
    fn bound_is_sound_on_examples() {
        // Every stored key >= cursor maps to a user key >= lower_bound(cursor).
        let stored = [
            "a",
            "a-b.delta",
            "a.2.delta",
            "a.delta",
            "a/x",
            "a0.delta",
            "ab",
            "b.delta",
        ];
        for (i, cursor) in stored.iter().enumerate() {
            let bound = lower_bound(cursor);
            for later in &stored[i..] {
                let user = later.strip_suffix(DELTA_SUFFIX).unwrap_or(later);
                assert!(
                    user >= bound,
                    "{later} -> {user} < {bound} (cursor {cursor})"
                );
            }
        }
    }
}
