//! Backend selection and encoder options.

use std::fmt;

/// Which VCDIFF implementation does the work.
///
/// Both write standard VCDIFF without secondary compression, so each decodes the other's
/// output byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The xdelta3 C library (feature `native`, not on wasm32).
    Native,
    /// `oxidelta`, pure Rust; always available.
    Pure,
}

impl Backend {
    /// The backend used when none is chosen: native when compiled in, else pure.
    pub const fn preferred() -> Self {
        if cfg!(all(feature = "native", not(target_arch = "wasm32"))) {
            Self::Native
        } else {
            Self::Pure
        }
    }

    /// Whether this backend is compiled into this build.
    pub const fn is_available(self) -> bool {
        match self {
            Self::Native => cfg!(all(feature = "native", not(target_arch = "wasm32"))),
            Self::Pure => true,
        }
    }

    /// Every backend compiled into this build.
    pub fn available() -> impl Iterator<Item = Self> {
        [Self::Native, Self::Pure]
            .into_iter()
            .filter(|b| b.is_available())
    }
}

impl Default for Backend {
    fn default() -> Self {
        Self::preferred()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Native => "native (xdelta3)",
            Self::Pure => "pure (oxidelta)",
        })
    }
}

/// How to encode.
///
/// ```
/// use deltaglider_codec::{Backend, EncodeOptions};
/// let opts = EncodeOptions::default().backend(Backend::Pure).max_ratio(0.5);
/// assert_eq!(opts.get_max_ratio(), Some(0.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncodeOptions {
    backend: Backend,
    max_ratio: Option<f64>,
    chunk_size: usize,
    level: u8,
    threads: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            backend: Backend::preferred(),
            max_ratio: None,
            chunk_size: 64 << 20,
            level: 6,
            threads: 1,
        }
    }
}

impl EncodeOptions {
    /// Selects the backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Gives up (with [`Encoded::Exceeded`]) once the delta would exceed
    /// `ratio × target length` bytes. Values that are not finite or are negative are treated
    /// as 0, so the encoder gives up at once.
    pub fn max_ratio(mut self, ratio: f64) -> Self {
        self.max_ratio = Some(if ratio.is_finite() && ratio > 0.0 {
            ratio
        } else {
            0.0
        });
        self
    }

    /// How much target the streaming encoder hands the native backend per call (default
    /// 64 MiB, at least 1 MiB). Larger chunks re-index the reference less often and cost that
    /// much more memory; the pure backend streams 8 MiB windows regardless.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1 << 20);
        self
    }

    /// Match effort, 1 (fastest) to 9 (smallest deltas), as xdelta3's `-1`…`-9`; default 6.
    /// The `xdelta3` command defaults to 3, which encodes about 1.5× faster and gives up to
    /// a third larger deltas on real artifacts (`docs/benchmarks.md`).
    pub fn level(mut self, level: u8) -> Self {
        self.level = level.clamp(1, 9);
        self
    }

    /// Encodes a large target on up to `threads` threads (default 1; native backend, not on
    /// wasm32): the target is cut into equal segments of at least 4 MiB, each encoded
    /// against the whole reference, and their windows concatenated into one delta; the
    /// `max_ratio` limit applies to the joined delta. Matches across a cut are lost: on a
    /// 53 MB database dump cut in two, the delta grew by 0.04 % and the encode took half the
    /// time; 16 MB wheels, cut in two, store the same bytes 1.4–1.5× faster.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The most threads an encode may use.
    pub fn get_threads(&self) -> usize {
        self.threads
    }

    /// The match effort.
    pub fn get_level(&self) -> u8 {
        self.level
    }

    /// The selected backend.
    pub fn get_backend(&self) -> Backend {
        self.backend
    }

    /// The cap on delta size relative to the target, if any.
    pub fn get_max_ratio(&self) -> Option<f64> {
        self.max_ratio
    }

    /// The streaming encoder's native chunk size.
    pub fn get_chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The same options without a cap.
    pub(crate) fn uncapped(mut self) -> Self {
        self.max_ratio = None;
        self
    }

    /// The largest delta allowed for a target of `target_len` bytes, if capped.
    pub fn limit_for(&self, target_len: u64) -> Option<u64> {
        // f64 has 53 bits of mantissa: exact for any object size S3 allows.
        self.max_ratio
            .map(|r| (r * target_len as f64).floor() as u64)
    }
}

/// The outcome of an encode that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded {
    /// A complete VCDIFF delta.
    Delta(Vec<u8>),
    /// The encoder gave up because the delta would exceed `limit` bytes
    /// ([`EncodeOptions::max_ratio`]); store the target whole instead.
    Exceeded {
        /// The cap that was hit.
        limit: u64,
    },
}

impl Encoded {
    /// The delta, or `None` when the cap was exceeded.
    pub fn into_delta(self) -> Option<Vec<u8>> {
        match self {
            Self::Delta(d) => Some(d),
            Self::Exceeded { .. } => None,
        }
    }
}
