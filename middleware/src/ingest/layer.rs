//! The [`IngestLayer`].

use tower_layer::Layer;

use super::service::Ingest;

/// The default of [`IngestLayer::buffer_limit`]: 8 MiB.
pub const DEFAULT_BUFFER_LIMIT: u64 = 8 << 20;

/// A tower [`Layer`] that decodes and verifies each request body before the inner service
/// reads it (see [the module docs](super)).
///
/// ```
/// use deltaglider::ingest::IngestLayer;
/// let layer = IngestLayer::new().buffer_limit(1 << 20);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct IngestLayer {
    pub(crate) buffer_limit: u64,
}

impl IngestLayer {
    /// A layer buffering bodies up to [`DEFAULT_BUFFER_LIMIT`].
    pub fn new() -> Self {
        Self {
            buffer_limit: DEFAULT_BUFFER_LIMIT,
        }
    }

    /// Bodies of at most this many payload bytes are read and verified completely before
    /// the inner service is called, so a mismatch is answered with the proper S3 error and
    /// nothing reaches the inner service. Larger ones stream in bounded memory and hold
    /// back their last bytes until verified (default 8 MiB; 0 streams every body of known
    /// length).
    pub fn buffer_limit(mut self, bytes: u64) -> Self {
        self.buffer_limit = bytes;
        self
    }

    /// The buffering limit, in bytes.
    pub fn get_buffer_limit(&self) -> u64 {
        self.buffer_limit
    }
}

impl Default for IngestLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for IngestLayer {
    type Service = Ingest<S>;

    fn layer(&self, inner: S) -> Ingest<S> {
        Ingest::new(inner, self.buffer_limit)
    }
}
