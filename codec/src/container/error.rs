//! The container module's error type.

/// Why [`repack`](super::repack) (or the check inside [`unpack`](super::unpack)) failed.
///
/// A hostile or damaged recipe always ends here, never in a panic or an allocation beyond
/// what the recipe and payload lengths allow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The recipe is not well-formed.
    #[error("malformed recipe at byte {offset}: {reason}")]
    Malformed {
        /// Offset in the recipe where the problem was found.
        offset: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The recipe has a version, container kind or preflate engine this build does not read.
    #[error("unsupported recipe: {what} {found}")]
    Unsupported {
        /// `"version"`, `"container"` or `"engine"`.
        what: &'static str,
        /// The value found.
        found: u8,
    },
    /// The recipe names an encoder (or parameters) this build cannot run. The object is
    /// never rebuilt with another encoder instead.
    #[error("recipe needs deflate encoder {code:02x?}, which this build cannot honour: {reason}")]
    Encoder {
        /// The encoder's code and parameters as recorded.
        code: [u8; 5],
        /// Why it cannot be honoured.
        reason: &'static str,
    },
    /// The recipe describes a different payload length than the one given.
    #[error("recipe describes {expected} payload bytes, but {actual} were given")]
    PayloadLength {
        /// Total of the recipe's payload lengths.
        expected: u64,
        /// Length of the payload given.
        actual: u64,
    },
    /// A deflate stream could not be rebuilt.
    #[error("deflate stream {stream}: cannot rebuild it: {detail}")]
    Recreate {
        /// Zero-based index of the stream among the recipe's deflate segments.
        stream: usize,
        /// What went wrong.
        detail: String,
    },
}

/// `Result` with the container module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
