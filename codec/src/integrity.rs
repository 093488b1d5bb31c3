//! SHA-256 and MD5: streaming hashers and digest values that print as lowercase hex.

use std::fmt;
use std::str::FromStr;

use md5::Digest as _;

macro_rules! digest_type {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The digest as lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// The raw digest bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = ParseDigestError;

            /// Parses hex, either case.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let mut out = [0u8; $len];
                hex::decode_to_slice(s, &mut out).map_err(|_| ParseDigestError {
                    expected_hex_len: $len * 2,
                })?;
                Ok(Self(out))
            }
        }
    };
}

digest_type!(
    /// A SHA-256 digest.
    Sha256Digest,
    32
);
digest_type!(
    /// An MD5 digest (what S3 returns as the ETag of a single-part upload).
    Md5Digest,
    16
);

/// A digest string was not the right number of hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected_hex_len} hex digits")]
pub struct ParseDigestError {
    expected_hex_len: usize,
}

/// Incremental SHA-256.
#[derive(Clone, Default)]
pub struct Sha256(sha2::Sha256);

impl Sha256 {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Sha256Digest {
        Sha256Digest(self.0.finalize().into())
    }

    /// SHA-256 of one buffer.
    pub fn digest(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest(sha2::Sha256::digest(bytes).into())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256")
    }
}

/// Incremental MD5.
#[derive(Clone, Default)]
pub struct Md5(md5::Md5);

impl Md5 {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Md5Digest {
        Md5Digest(self.0.finalize().into())
    }

    /// MD5 of one buffer.
    pub fn digest(bytes: &[u8]) -> Md5Digest {
        Md5Digest(md5::Md5::digest(bytes).into())
    }
}

impl fmt::Debug for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Md5")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            Sha256::digest(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Md5::digest(b"").to_hex(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31) as u8).collect();
        let mut s = Sha256::new();
        let mut m = Md5::new();
        for chunk in data.chunks(333) {
            s.update(chunk);
            m.update(chunk);
        }
        assert_eq!(s.finish(), Sha256::digest(&data));
        assert_eq!(m.finish(), Md5::digest(&data));
    }

    #[test]
    fn hex_round_trip_and_rejects_bad_length() {
        let d = Sha256::digest(b"x");
        assert_eq!(d.to_hex().parse::<Sha256Digest>(), Ok(d));
        assert_eq!(d.to_hex().to_uppercase().parse::<Sha256Digest>(), Ok(d));
        assert!("abcd".parse::<Sha256Digest>().is_err());
        assert!("zz".repeat(16).parse::<Md5Digest>().is_err());
    }
}
