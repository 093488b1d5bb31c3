//! The stored names of each field: the canonical `dg-` name first, then the legacy
//! aliases read on objects without `dg-format` (FORMAT.md section 5).

pub(super) const TOOL: &[&str] = &["dg-tool", "dg_tool", "tool"];
pub(super) const ORIGINAL_NAME: &[&str] = &[
    "dg-original-name",
    "dg_original_name",
    "original_name",
    "original-name",
];
pub(super) const SOURCE_NAME: &[&str] = &[
    "dg-source-name",
    "dg_source_name",
    "source_name",
    "source-name",
];
pub(super) const FILE_SHA256: &[&str] = &[
    "dg-file-sha256",
    "dg_file_sha256",
    "file_sha256",
    "file-sha256",
];
pub(super) const FILE_SIZE: &[&str] = &["dg-file-size", "dg_file_size", "file_size", "file-size"];
pub(super) const CREATED_AT: &[&str] =
    &["dg-created-at", "dg_created_at", "created_at", "created-at"];
pub(super) const REF_KEY: &[&str] = &[
    "dg-ref-key",
    "dg_ref_key",
    "ref_key",
    "ref-key",
    "dg-ref-path",
    "ref-path",
];
pub(super) const REF_SHA256: &[&str] =
    &["dg-ref-sha256", "dg_ref_sha256", "ref_sha256", "ref-sha256"];
pub(super) const DELTA_SIZE: &[&str] =
    &["dg-delta-size", "dg_delta_size", "delta_size", "delta-size"];
pub(super) const DELTA_CMD: &[&str] = &["dg-delta-cmd", "dg_delta_cmd", "delta_cmd", "delta-cmd"];
pub(super) const NOTE: &[&str] = &["dg-note", "dg_note", "note"];
pub(super) const COMPRESSION: &[&str] = &["dg-compression", "dg_compression", "compression"];

/// Names that only ever had their canonical form.
pub(super) const MD5: &str = "dg-md5";
pub(super) const MULTIPART_ETAG: &str = "dg-multipart-etag";
pub(super) const FORMAT: &str = "dg-format";
pub(super) const REF_SEQ: &str = "dg-ref-seq";
pub(super) const PAYLOAD: &str = "dg-payload";
pub(super) const RECIPE_SIZE: &str = "dg-recipe-size";
pub(super) const PAYLOAD_SIZE: &str = "dg-payload-size";

/// `dg-checksum-<algorithm>`, in the order of [`crate::s3::checksum::ALGORITHMS`].
pub(super) const CHECKSUM_NAMES: [&str; 5] = [
    "dg-checksum-crc32",
    "dg-checksum-crc32c",
    "dg-checksum-crc64nvme",
    "dg-checksum-sha1",
    "dg-checksum-sha256",
];

/// The fields with legacy aliases.
const LEGACY_FIELDS: &[&[&str]] = &[
    TOOL,
    ORIGINAL_NAME,
    SOURCE_NAME,
    FILE_SHA256,
    FILE_SIZE,
    CREATED_AT,
    REF_KEY,
    REF_SHA256,
    DELTA_SIZE,
    DELTA_CMD,
    NOTE,
    COMPRESSION,
];

/// Whether a stored metadata name belongs to DeltaGlider and must not reach clients.
/// `legacy`: the object has no `dg-format`, so the Python CLI's bare aliases count too.
pub fn is_internal_name(name: &str, legacy: bool) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("dg-")
        || lower.starts_with("dg_")
        || (legacy
            && LEGACY_FIELDS
                .iter()
                .any(|names| names.contains(&lower.as_str())))
}

/// Whether stored response `headers` carry DeltaGlider's SHA-256 of an original, under any
/// of its names: every object a DeltaGlider tool finished writing as a delta does; one a
/// crash left without its metadata (a backend that writes data and metadata in two
/// steps) does not.
pub(crate) fn records_original(headers: &http::HeaderMap) -> bool {
    FILE_SHA256
        .iter()
        .any(|name| headers.contains_key(format!("x-amz-meta-{name}").as_str()))
}
