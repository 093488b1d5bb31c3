//! What the layer is configured with.

use std::fmt;
use std::sync::Arc;

use deltaglider_codec::Backend;

use crate::compat::MaybeSend;
use crate::s3::time::Clock;

/// Decides which keys are worth delta-encoding.
///
/// Implemented for closures `Fn(&str) -> bool` over the user key.
pub trait Eligible: MaybeSend + Sync + 'static {
    /// Whether `key` should be encoded against its deltaspace's reference.
    fn is_eligible(&self, key: &str) -> bool;
}

impl<F> Eligible for F
where
    F: Fn(&str) -> bool + MaybeSend + Sync + 'static,
{
    fn is_eligible(&self, key: &str) -> bool {
        self(key)
    }
}

/// The default policy: archive, image, dump and model-file extensions, case-insensitive.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultExtensions;

/// The extensions [`DefaultExtensions`] accepts.
pub const DEFAULT_EXTENSIONS: &[&str] = &[
    ".zip",
    ".tar",
    ".tgz",
    ".tar.gz",
    ".gz",
    ".tar.bz2",
    ".tbz2",
    ".bz2",
    ".tar.xz",
    ".txz",
    ".xz",
    ".jar",
    ".war",
    ".ear",
    ".rar",
    ".7z",
    ".dmg",
    ".iso",
    ".img",
    ".qcow2",
    ".vmdk",
    ".vhd",
    ".vhdx",
    ".sql",
    ".dump",
    ".bak",
    ".backup",
    ".whl",
    ".crate",
    ".deb",
    ".rpm",
    ".safetensors",
    ".gguf",
    ".pt",
    ".pth",
    ".ckpt",
    ".onnx",
    ".bin",
];

impl Eligible for DefaultExtensions {
    fn is_eligible(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        DEFAULT_EXTENSIONS.iter().any(|ext| key.ends_with(ext))
    }
}

/// Settings of a [`DeltaLayer`](crate::DeltaLayer).
///
/// ```
/// use deltaglider::DeltaConfig;
/// let config = DeltaConfig::default()
///     .max_delta_ratio(0.4)
///     .eligible(|key: &str| key.ends_with(".img"));
/// assert_eq!(config.get_max_delta_ratio(), 0.4);
/// ```
#[derive(Clone)]
pub struct DeltaConfig {
    pub(crate) max_delta_ratio: f64,
    pub(crate) eligible: Arc<dyn Eligible>,
    pub(crate) max_object_size: u64,
    pub(crate) max_large_object_size: u64,
    pub(crate) large_chunk: usize,
    pub(crate) large_margin: u64,
    pub(crate) cache_bytes: u64,
    pub(crate) backend: Backend,
    pub(crate) list_page_size: u32,
    pub(crate) level: u8,
    pub(crate) references: References,
    pub(crate) offload: crate::state::offload::Offload,
    pub(crate) encode_threads: usize,
    pub(crate) gzip_payloads: bool,
    pub(crate) max_payload_size: u64,
    pub(crate) rebuilt_cache_bytes: u64,
    pub(crate) clock: Option<Arc<dyn Clock>>,
}

/// Which reference a new object is encoded against (`docs/DESIGN.md`, "Choosing and
/// renewing references").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum References {
    /// Always the deltaspace's first reference, `reference.bin`, as the Python DeltaGlider
    /// CLI does; every delta stays readable by it.
    First,
    /// The most similar of the deltaspace's `n` newest references (by similarity sketch;
    /// `Best(1)` is simply the newest), with re-baselining: an object whose delta has grown
    /// past the cost model's threshold, or that resembles no reference, becomes a new
    /// content-named reference (`reference.<h>.bin`). The Python CLI cannot read deltas
    /// against those.
    Best(u8),
}

impl Default for DeltaConfig {
    fn default() -> Self {
        Self {
            max_delta_ratio: 0.5,
            eligible: Arc::new(DefaultExtensions),
            max_object_size: 512 << 20,
            max_large_object_size: if cfg!(target_arch = "wasm32") {
                0
            } else {
                5 << 40
            },
            large_chunk: 8 << 20,
            large_margin: 8 << 20,
            cache_bytes: 1 << 30,
            backend: Backend::preferred(),
            list_page_size: 1000,
            level: 3,
            references: References::Best(3),
            offload: crate::state::offload::Offload::default(),
            encode_threads: default_threads(),
            gzip_payloads: cfg!(feature = "gzip"),
            max_payload_size: 256 << 20,
            rebuilt_cache_bytes: if cfg!(target_arch = "wasm32") {
                0
            } else {
                128 << 20
            },
            clock: crate::s3::time::default_clock(),
        }
    }
}

fn default_threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

impl fmt::Debug for DeltaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeltaConfig")
            .field("max_delta_ratio", &self.max_delta_ratio)
            .field("max_object_size", &self.max_object_size)
            .field("max_large_object_size", &self.max_large_object_size)
            .field("cache_bytes", &self.cache_bytes)
            .field("backend", &self.backend)
            .field("has_clock", &self.clock.is_some())
            .finish_non_exhaustive()
    }
}

impl DeltaConfig {
    /// Stores an object as a delta only when `delta / original` is below this (default 0.5).
    pub fn max_delta_ratio(mut self, ratio: f64) -> Self {
        self.max_delta_ratio = ratio;
        self
    }

    /// Which keys to try to store as deltas (default [`DefaultExtensions`]).
    pub fn eligible(mut self, policy: impl Eligible) -> Self {
        self.eligible = Arc::new(policy);
        self
    }

    /// Eligible objects up to this size are encoded in memory (default 512 MiB): the layer
    /// holds the object, its reference and its delta while encoding or reconstructing it,
    /// so this bounds its memory per request. Larger ones take the bounded-memory path up
    /// to [`max_large_object_size`](Self::max_large_object_size), and are stored whole
    /// above it. It also bounds any delta the layer holds.
    pub fn max_object_size(mut self, bytes: u64) -> Self {
        self.max_object_size = bytes;
        self
    }

    /// Eligible objects above [`max_object_size`](Self::max_object_size) and up to this
    /// size (default 5 TiB, S3's largest object; 0 on wasm32) are stored as deltas too, in
    /// bounded memory: a completed multipart upload (or a PutObject) is read back from the
    /// backend by ranges, chunk by chunk, each chunk encoded against the reference bytes
    /// around its place (see [`large_window`](Self::large_window)); the delta is held in
    /// memory, so it must come under `max_object_size` as well as the ratio, or the object
    /// stays whole. 0 turns this off: larger objects are stored whole.
    pub fn max_large_object_size(mut self, bytes: u64) -> Self {
        self.max_large_object_size = bytes;
        self
    }

    /// How large objects are encoded (defaults 8 MiB and 8 MiB): `chunk` bytes of the
    /// object at a time (64 KiB to 8 MiB), each against the reference bytes from `margin`
    /// before to `margin` after the place it is expected to match (stretches equal to the
    /// reference there are copied without encoding; edited ones are encoded against the
    /// 256 KiB around them). Inserts or moves further than the margin are not found; memory
    /// per encode is about `chunk + 2 × margin` and the encoder's tables, times
    /// [`encode_threads`](Self::encode_threads).
    pub fn large_window(mut self, chunk: usize, margin: u64) -> Self {
        self.large_chunk = chunk.clamp(64 << 10, 8 << 20);
        self.large_margin = margin;
        self
    }

    /// Bytes of references kept in memory (default 1 GiB). References are immutable, so
    /// cached ones never go stale.
    pub fn cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// The codec backend for encoding (default [`Backend::preferred`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Delta match effort, 1 (fastest) to 9 (smallest deltas); default 3, the `xdelta3`
    /// command's default. On the real corpus (`docs/benchmarks.md`) level 6 makes deltas up to
    /// a third smaller but encodes about 1.5× slower; the difference in bytes stored is tiny
    /// next to the reference each deltaspace keeps.
    pub fn level(mut self, level: u8) -> Self {
        self.level = level.clamp(1, 9);
        self
    }

    /// Runs delta encoding and its verification through `spawn` instead of inline in the
    /// request's future, so that they do not hold an async executor thread (an encode takes
    /// up to a second per 100 MB). With tokio:
    /// `.offload(|job| { tokio::task::spawn_blocking(job); })`. Without it, the work runs on
    /// the crate's own pool of threads (one per core) on native targets, and inline on
    /// wasm32 (see [`offload_inline`](Self::offload_inline)).
    pub fn offload(
        mut self,
        spawn: impl Fn(crate::state::offload::Job) + Send + Sync + 'static,
    ) -> Self {
        self.offload = crate::state::offload::Offload::new(spawn);
        self
    }

    /// Runs delta encoding and its verification inline in the request's future (the
    /// default on wasm32): for hosts that run each request on a thread of its own.
    pub fn offload_inline(mut self) -> Self {
        self.offload = crate::state::offload::Offload::inline();
        self
    }

    /// Threads one large encode may use (default: the machine's cores, at most 4; 1 on
    /// wasm32). Targets of 8 MiB and more are cut into segments encoded in parallel
    /// (`deltaglider_codec::EncodeOptions::threads`).
    pub fn encode_threads(mut self, threads: usize) -> Self {
        self.encode_threads = threads.max(1);
        self
    }

    /// How references are chosen and renewed (default [`References::Best`]`(3)`).
    pub fn references(mut self, references: References) -> Self {
        self.references = match references {
            References::Best(n) => References::Best(n.max(1)),
            first => first,
        };
        self
    }

    /// Deltas inside compressed containers (default: on when the crate's `gzip` feature is;
    /// without it this setting has no effect). A gzip, bzip2 or xz file or a zip archive whose
    /// compressed bytes can be rebuilt exactly from its decompressed payload is stored as a delta of
    /// that payload against its reference's payload, plus the recipe that recompresses it
    /// (`docs/FORMAT.md`, section 13; format version 2). A `.tgz` or `.whl` release then
    /// costs what its changes cost, not its whole compressed size; reading it back recompresses, which is slower than a plain
    /// delta (see `docs/benchmarks.md`). Objects stored this way can only be read by a build
    /// with the `gzip` feature.
    pub fn gzip_payloads(mut self, on: bool) -> Self {
        self.gzip_payloads = on && cfg!(feature = "gzip");
        self
    }

    /// The largest decompressed payload of a gzip object or reference the layer handles
    /// (default 256 MiB): memory for payload deltas is bounded by it, and so is a PUT's
    /// time — analysing a payload runs at 11–14 MB/s, so the default keeps a PUT under
    /// about 30 s, below common client read timeouts. A larger gzip upload is stored by the
    /// plain rules; reading a payload delta whose payload exceeds it fails
    /// with 500 `InternalError` (a deployment that reads what a larger one wrote needs as
    /// large a bound).
    pub fn max_payload_size(mut self, bytes: u64) -> Self {
        self.max_payload_size = bytes;
        self
    }

    /// Bytes of gzip archives rebuilt from payload deltas kept in memory (default 128 MiB;
    /// 0 on wasm32). Rebuilding recompresses the payload, far slower than decoding a plain
    /// delta; a release that is downloaded again and again is rebuilt once. Entries are
    /// keyed with the object's SHA-256, so an overwritten object is never served stale.
    pub fn rebuilt_cache_bytes(mut self, bytes: u64) -> Self {
        self.rebuilt_cache_bytes = bytes;
        self
    }

    /// Keys per backend ListObjectsV2 request the layer makes (default 1000, at least 1).
    pub fn list_page_size(mut self, keys: u32) -> Self {
        self.list_page_size = keys.clamp(1, 1000);
        self
    }

    /// The clock that dates what the layer writes (`dg-created-at`, the `LastModified` of
    /// CopyObject and UploadPartCopy answers). `SystemTime::now` on native targets; wasm32
    /// has none, so a Worker must give one (e.g. from `Date.now()`), or those dates read
    /// 1970-01-01.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The configured ratio.
    pub fn get_max_delta_ratio(&self) -> f64 {
        self.max_delta_ratio
    }

    /// Whether `key` is delta-eligible under this configuration.
    pub fn is_eligible(&self, key: &str) -> bool {
        self.eligible.is_eligible(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_extensions() {
        let c = DeltaConfig::default();
        for key in [
            "a.zip",
            "x/y.TAR.GZ",
            "m.safetensors",
            "db.sql",
            "r/model.bin",
            "backups/db.sql.gz",
        ] {
            assert!(c.is_eligible(key), "{key}");
        }
        for key in ["a.txt", "zip", "x.gz.txt", "notes.zip.md"] {
            assert!(!c.is_eligible(key), "{key}");
        }
    }
}
