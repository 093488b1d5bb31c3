//! Bounds for [`unpack`](super::unpack) and [`payload`](super::payload).

use crate::deflate::Policy;

/// Bounds for [`unpack`](super::unpack) and [`payload`](super::payload).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload produced; a larger one (a decompression bomb, or just a big file)
    /// gives `None`. Default: 1 GiB.
    pub max_payload: usize,
    /// Largest deflate stream (compressed bytes) handed to preflate when no known encoder
    /// rebuilds it: preflate rebuilds nearly any stream, but at a few MB/s, on PUT and on
    /// every GET. Default: 64 MiB for a gzip member, a sixteenth of that per zip member.
    pub preflate_up_to: usize,
    /// Largest fix-up kept for an encoder that comes close, as a fraction of the stream's
    /// length. Default: 1/8.
    pub max_fixup_ratio: f64,
    /// Most memory an encoder tried at [`unpack`](super::unpack) may need: an xz stream
    /// whose preset needs more (liblzma's encoder takes 94 MiB at `-6`, 674 MiB at `-9`)
    /// is not identified, so the file is stored as it is. The same memory is needed to
    /// rebuild it, so a small instance (a Worker) sets this low. Default: 1 GiB (every
    /// encoder).
    pub max_encoder_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 1 << 30,
            preflate_up_to: 64 << 20,
            max_fixup_ratio: 0.125,
            max_encoder_memory: 1 << 30,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_payload`].
    #[must_use]
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Sets [`Limits::preflate_up_to`] (0: never preflate).
    #[must_use]
    pub fn preflate_up_to(mut self, bytes: usize) -> Self {
        self.preflate_up_to = bytes;
        self
    }

    /// Sets [`Limits::max_encoder_memory`].
    #[must_use]
    pub fn max_encoder_memory(mut self, bytes: u64) -> Self {
        self.max_encoder_memory = bytes;
        self
    }

    /// What identification may spend on one stream; zip members get a sixteenth of the
    /// preflate allowance each, since an archive may hold many.
    pub(super) fn policy(&self, zip_member: bool) -> Policy {
        Policy {
            max_fixup_ratio: self.max_fixup_ratio,
            preflate_up_to: if zip_member {
                self.preflate_up_to / 16
            } else {
                self.preflate_up_to
            },
            max_encoder_memory: self.max_encoder_memory,
        }
    }
}
