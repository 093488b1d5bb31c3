//! The gzip module's error type.

/// Why [`repack`](super::repack) (or the recipe check inside [`unpack`](super::unpack)) failed.
///
/// A hostile or damaged recipe always ends here, never in a panic or an allocation beyond
/// what the recipe and payload lengths allow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The recipe is not well-formed.
    #[error("malformed gzip recipe at byte {offset}: {reason}")]
    Malformed {
        /// Offset in the recipe where the problem was found.
        offset: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The recipe has a version or deflate engine this build does not read.
    #[error("unsupported gzip recipe: {what} {found}")]
    Unsupported {
        /// `"version"` or `"engine"`.
        what: &'static str,
        /// The value found.
        found: u8,
    },
    /// The recipe describes a different payload length than the one given.
    #[error("gzip recipe describes {expected} payload bytes, but {actual} were given")]
    PayloadLength {
        /// Total of the recipe's chunk lengths.
        expected: u64,
        /// Length of the payload given.
        actual: u64,
    },
    /// The deflate engine refused the corrections of one chunk.
    #[error("gzip member {member}, chunk {chunk}: cannot recreate the deflate stream: {detail}")]
    Recreate {
        /// Zero-based member index.
        member: usize,
        /// Zero-based chunk index within the member.
        chunk: usize,
        /// What the engine reported.
        detail: String,
    },
}

/// `Result` with the gzip module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
