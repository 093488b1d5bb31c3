//! How user keys map to stored keys (`docs/FORMAT.md`, "Key layout").

use deltaglider_codec::Sha256Digest;
use http::StatusCode;

use crate::s3::error::S3Error;

/// Suffix of a stored delta: `<key>.delta`.
pub const DELTA_SUFFIX: &str = ".delta";
/// Name of a deltaspace's first reference.
pub const REFERENCE_NAME: &str = "reference.bin";
/// Where the savings ledger lives in each bucket (`docs/FORMAT.md`, "Savings ledger").
pub const LEDGER_PREFIX: &str = ".deltaglider/";
/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_LEN: usize = 1024;

/// The deltaspace of `key`: everything up to and including its last `/`, or `""` (the
/// bucket root) for a key without one.
pub fn deltaspace(key: &str) -> &str {
    key.rfind('/').map_or("", |i| &key[..=i])
}

/// Where the delta of `key` is stored.
pub fn delta_key(key: &str) -> String {
    format!("{key}{DELTA_SUFFIX}")
}

/// The first reference of deltaspace `prefix` (as returned by [`deltaspace`]).
pub fn reference_key(prefix: &str) -> String {
    format!("{prefix}{REFERENCE_NAME}")
}

/// A further, content-named reference of deltaspace `prefix`:
/// `reference.<first 16 hex digits of its SHA-256>.bin`.
pub fn content_reference_key(prefix: &str, sha256: &Sha256Digest) -> String {
    format!("{prefix}reference.{}.bin", &sha256.to_hex()[..16])
}

/// Which reference name, if any, the last path segment of `key` is.
fn reference_rule(key: &str) -> Option<&'static str> {
    let name = &key[deltaspace(key).len()..];
    if name == REFERENCE_NAME {
        return Some("reference.bin is reserved for references");
    }
    let hex = name.strip_prefix("reference.")?.strip_suffix(".bin")?;
    (hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some("reference.<16 hex>.bin is reserved for references")
}

/// Whether the last path segment of `key` names a reference.
pub fn is_reference(key: &str) -> bool {
    reference_rule(key).is_some()
}

/// A user key that collides with the storage layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key {key:?} is reserved: {rule}")]
pub struct ReservedKey {
    /// The rejected key.
    pub key: String,
    /// Which rule it breaks.
    pub rule: &'static str,
}

/// Rejects user keys that the storage layout reserves (`docs/FORMAT.md`, section 6).
pub fn check_user_key(key: &str) -> Result<(), ReservedKey> {
    let rule = if key.ends_with(DELTA_SUFFIX) {
        "keys ending in .delta are reserved for deltas"
    } else if let Some(rule) = reference_rule(key) {
        rule
    } else if key.starts_with(LEDGER_PREFIX) {
        "keys under .deltaglider/ are reserved for the savings ledger"
    } else {
        return Ok(());
    };
    Err(ReservedKey {
        key: key.to_owned(),
        rule,
    })
}

/// A key longer than the store can hold (S3: 400 `KeyTooLongError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key is {len} bytes long; at most {max} can be stored here")]
pub struct KeyTooLong {
    /// The key's length in bytes.
    pub len: usize,
    /// The longest key (of this shape) that can be stored.
    pub max: usize,
}

/// Rejects keys longer than S3 allows ([`MAX_KEY_LEN`] bytes), for every operation that
/// names one: S3 refuses them before looking anything up.
///
/// ```
/// use deltaglider::keys::check_key_length;
/// assert!(check_key_length(&"k".repeat(1024)).is_ok());
/// assert!(check_key_length(&"k".repeat(1025)).is_err());
/// ```
pub fn check_key_length(key: &str) -> Result<(), KeyTooLong> {
    if key.len() > MAX_KEY_LEN {
        return Err(KeyTooLong {
            len: key.len(),
            max: MAX_KEY_LEN,
        });
    }
    Ok(())
}

impl From<ReservedKey> for S3Error {
    fn from(e: ReservedKey) -> Self {
        let key = e.key.clone();
        Self::invalid_argument(e.to_string()).resource(key)
    }
}

impl From<KeyTooLong> for S3Error {
    fn from(e: KeyTooLong) -> Self {
        Self::new(
            "KeyTooLongError",
            StatusCode::BAD_REQUEST,
            format!("Your key is too long: {e}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltaspaces() {
        for (key, space) in [
            ("a.zip", ""),
            ("r/a.zip", "r/"),
            ("r/s/a.zip", "r/s/"),
            ("r//a.zip", "r//"),
            ("dir/", "dir/"),
        ] {
            assert_eq!(deltaspace(key), space, "{key}");
        }
    }

    #[test]
    fn reserved_keys() {
        let sha = deltaglider_codec::Sha256::digest(b"x");
        let content = content_reference_key("p/", &sha);
        assert_eq!(content.len(), "p/reference.".len() + 16 + ".bin".len());
        for key in [
            "x.delta",
            "p/x.zip.delta",
            "reference.bin",
            "p/reference.bin",
            &content,
            ".deltaglider/stats/summary/1.json",
            ".deltaglider/",
        ] {
            assert!(check_user_key(key).is_err(), "{key}");
        }
        for key in [
            "x.deltas",
            "p/reference.bin.txt",
            "p/my-reference.bin",
            "p/reference.0123456789ABCDEF.bin",
            "p/reference.0123.bin",
            "p/reference.BIN",
            "p/.deltaglider/x",
            ".deltaglider",
            "my-delta",
            "reference.bin/x",
        ] {
            assert!(check_user_key(key).is_ok(), "{key}");
        }
    }
}
