//! The codec's error type.

use crate::integrity::Sha256Digest;
use crate::options::Backend;

/// Everything that can go wrong while encoding or decoding.
///
/// Hostile or damaged deltas always end here, never in a panic or an unbounded allocation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The delta is not well-formed VCDIFF.
    #[error("malformed delta at byte {offset}: {reason}")]
    Malformed {
        /// Offset in the delta where the problem was found.
        offset: u64,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The delta is valid VCDIFF but uses a feature this codec does not decode.
    #[error("unsupported VCDIFF feature: {feature}")]
    Unsupported {
        /// The feature, e.g. secondary compression.
        feature: &'static str,
    },
    /// The delta ended in the middle of its header or of a window.
    #[error("delta truncated after {len} bytes")]
    Truncated {
        /// Bytes of delta seen.
        len: u64,
    },
    /// The delta decodes to a different length than the caller expected.
    #[error("delta describes {actual} bytes of target, expected {expected}")]
    LengthMismatch {
        /// Length the caller expected.
        expected: u64,
        /// Length the delta describes or produced.
        actual: u64,
    },
    /// A window's instructions are inconsistent (bad address, overrun, missing data).
    #[error("delta window {window} is corrupt: {detail}")]
    Corrupt {
        /// Zero-based window index.
        window: u64,
        /// What the decoder found.
        detail: String,
    },
    /// A window's Adler-32 checksum does not match its decoded bytes.
    #[error("Adler-32 mismatch in window {window}: expected {expected:#010x}, got {actual:#010x}")]
    WindowChecksum {
        /// Zero-based window index.
        window: u64,
        /// Checksum stored in the delta.
        expected: u32,
        /// Checksum of the decoded bytes.
        actual: u32,
    },
    /// The reconstructed bytes do not have the expected SHA-256.
    #[error("SHA-256 mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// Digest the caller expected.
        expected: Sha256Digest,
        /// Digest of what was reconstructed.
        actual: Sha256Digest,
    },
    /// The delta copies from beyond the end of the reference it was given.
    #[error("delta needs {needed} bytes of reference, but the reference has {available}")]
    ReferenceTooShort {
        /// Reference bytes the delta needs.
        needed: u64,
        /// Reference bytes available.
        available: u64,
    },
    /// An input exceeds what the selected backend can process in memory.
    #[error("{what} of {len} bytes exceeds the {backend} backend's limit of {limit} bytes")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: u64,
        /// The backend's limit.
        limit: u64,
        /// The backend.
        backend: Backend,
    },
    /// The backend library reported a failure it gives no detail for.
    #[error("{backend} backend failed with code {code}: {message}")]
    Backend {
        /// The backend.
        backend: Backend,
        /// The library's return code.
        code: i32,
        /// Its meaning.
        message: &'static str,
    },
    /// The selected backend is not compiled into this build.
    #[error("the {0} backend is not available in this build")]
    BackendUnavailable(Backend),
    /// Reading the reference failed.
    #[error("reading {len} reference bytes at offset {offset} failed: {source}")]
    Reference {
        /// Offset of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// Reading the delta or writing the target failed ([`crate::decode_stream`]).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The caller used a streaming encoder or decoder after it failed or finished.
    #[error("the {0} was used after it failed or finished")]
    Finished(&'static str),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
