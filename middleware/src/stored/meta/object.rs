//! What the metadata of a stored object says, as Rust values.

use deltaglider_codec::{Md5Digest, Sha256Digest};

/// The highest storage format version this crate writes and reads. Objects are written
/// as version 1 unless they need version 2 (a delta of a gzip payload, [`PayloadDelta`])
/// or 3 (a reference stored as a delta of an older reference, [`ObjectMeta::reference`]
/// on a reference); every version from 1 up to this one is read.
pub const FORMAT_VERSION: u32 = 3;

/// What a stored object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A deltaspace reference.
    Reference,
    /// A delta against a reference.
    Delta,
    /// The original bytes, stored whole.
    Whole,
}

/// The reference a delta was encoded against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefInfo {
    /// Full stored key of the reference.
    pub key: String,
    /// SHA-256 of the reference body.
    pub sha256: Sha256Digest,
}

/// A delta of the decompressed payload of a compressed container (format version 2,
/// FORMAT.md section 13): the stored body is the recipe followed by the VCDIFF delta from
/// the reference's payload to this object's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadDelta {
    /// What the object is: `dg-payload`.
    pub container: Container,
    /// Length of the recipe at the start of the body.
    pub recipe_size: u64,
    /// Length of the decompressed payload.
    pub payload_size: u64,
}

/// The kind of compressed container a payload delta rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A gzip file (`.tgz`, `.tar.gz`, `.crate`, ...): `dg-payload: gzip`.
    Gzip,
    /// A zip archive (`.zip`, `.whl`, `.jar`, ...): `dg-payload: zip`.
    Zip,
    /// A bzip2 file (`.tar.bz2`, `.tbz2`, ...): `dg-payload: bzip2`.
    Bzip2,
    /// An xz file (`.tar.xz`, `.txz`, ...): `dg-payload: xz`.
    Xz,
}

impl Container {
    /// The `dg-payload` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zip => "zip",
            Self::Bzip2 => "bzip2",
            Self::Xz => "xz",
        }
    }
}

/// DeltaGlider's metadata of one stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// What the object is.
    pub kind: Kind,
    /// The writing tool, `deltaglider-rs/<version>` for ours.
    pub tool: String,
    /// SHA-256 of the original bytes.
    pub file_sha256: Sha256Digest,
    /// Length of the original bytes (absent only on some legacy objects).
    pub file_size: Option<u64>,
    /// MD5 of the original bytes (absent on references and legacy objects).
    pub md5: Option<Md5Digest>,
    /// `<hex>-<parts>` for objects uploaded by multipart, unquoted.
    pub multipart_etag: Option<String>,
    /// When the object was written, RFC 3339 (legacy values may lack zone or fraction).
    pub created_at: String,
    /// Final path segment of the user key (deltas and whole objects).
    pub original_name: Option<String>,
    /// Full key of the upload that seeded a reference.
    pub source_name: Option<String>,
    /// The reference of a delta; on a reference stored as a delta (format version 3), the
    /// older reference it was encoded against (its base).
    pub reference: Option<RefInfo>,
    /// On a reference stored as a delta: its place in its chain (`dg-ref-seq`), which
    /// picks its base (FORMAT.md section 14). 0 on every other object.
    pub ref_seq: u64,
    /// Length of the delta body.
    pub delta_size: Option<u64>,
    /// The client's `x-amz-checksum-<algorithm>` values of the original (algorithm, base64).
    pub checksums: Vec<(String, String)>,
    /// Set on deltas of a gzip payload (format version 2).
    pub payload_delta: Option<PayloadDelta>,
}

impl ObjectMeta {
    /// The ETag a plain S3 would return for the original object, quoted.
    pub fn etag(&self) -> String {
        match (&self.multipart_etag, &self.md5) {
            (Some(multipart), _) => format!("\"{multipart}\""),
            (None, Some(md5)) => format!("\"{md5}\""),
            // Legacy objects without an MD5: a stable stand-in derived from the content.
            (None, None) => format!("\"{}\"", &self.file_sha256.to_hex()[..32]),
        }
    }
}
