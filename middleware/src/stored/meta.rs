//! DeltaGlider metadata on stored objects (`docs/FORMAT.md`, sections 4 and 5).
//!
//! Writing always uses the canonical `dg-` names (format version 1, or 2 for payload
//! deltas); reading also accepts the legacy names of the Python CLI and DeltaGlider Proxy.
//! Names are given without the `x-amz-meta-` prefix, lowercase, as S3 stores them.

use deltaglider_codec::{Md5Digest, Sha256Digest};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::keys;
use crate::s3::error::S3Error;

/// The highest storage format version this crate writes and reads. Objects are written
/// as version 1 unless they need version 2 (a delta of a gzip payload, [`GzipPayload`]);
/// every version from 1 up to this one is read.
pub const FORMAT_VERSION: u32 = 2;

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

impl Kind {
    fn note(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::Delta => "delta",
            Self::Whole => "passthrough",
        }
    }
}

/// The reference a delta was encoded against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefInfo {
    /// Full stored key of the reference.
    pub key: String,
    /// SHA-256 of the reference body.
    pub sha256: Sha256Digest,
}

/// A delta of the decompressed payload of a gzip object (format version 2, FORMAT.md
/// section 13): the stored body is the recipe followed by the VCDIFF delta from the
/// reference's payload to this object's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GzipPayload {
    /// Length of the recipe at the start of the body.
    pub recipe_size: u64,
    /// Length of the decompressed payload.
    pub payload_size: u64,
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
    /// The reference of a delta.
    pub reference: Option<RefInfo>,
    /// Length of the delta body.
    pub delta_size: Option<u64>,
    /// The client's `x-amz-checksum-<algorithm>` values of the original (algorithm, base64).
    pub checksums: Vec<(String, String)>,
    /// Set on deltas of a gzip payload (format version 2).
    pub gzip: Option<GzipPayload>,
}

/// Why stored metadata could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The object is of a newer (or unknown) format version.
    #[error(
        "unsupported deltaglider storage format version {found:?} (this reader supports 1 to {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The `dg-format` value found.
        found: String,
    },
    /// A required field is missing.
    #[error("stored object lacks required metadata {name}")]
    Missing {
        /// The canonical name of the field.
        name: &'static str,
    },
    /// A field has a value of the wrong form.
    #[error("stored metadata {name} has an invalid value {value:?}")]
    Invalid {
        /// The canonical name of the field.
        name: &'static str,
        /// The value found.
        value: String,
    },
    /// A delta names a reference outside its deltaspace or not named like one.
    #[error("delta names {key:?} as its reference, which is not a reference of its deltaspace")]
    ForeignReference {
        /// The reference key found.
        key: String,
    },
}

/// Legacy lookup order of each field (FORMAT.md section 5); the first name is canonical.
const TOOL: &[&str] = &["dg-tool", "dg_tool", "tool"];
const ORIGINAL_NAME: &[&str] = &[
    "dg-original-name",
    "dg_original_name",
    "original_name",
    "original-name",
];
const SOURCE_NAME: &[&str] = &[
    "dg-source-name",
    "dg_source_name",
    "source_name",
    "source-name",
];
const FILE_SHA256: &[&str] = &[
    "dg-file-sha256",
    "dg_file_sha256",
    "file_sha256",
    "file-sha256",
];
const FILE_SIZE: &[&str] = &["dg-file-size", "dg_file_size", "file_size", "file-size"];
const CREATED_AT: &[&str] = &["dg-created-at", "dg_created_at", "created_at", "created-at"];
const REF_KEY: &[&str] = &[
    "dg-ref-key",
    "dg_ref_key",
    "ref_key",
    "ref-key",
    "dg-ref-path",
    "ref-path",
];
const REF_SHA256: &[&str] = &["dg-ref-sha256", "dg_ref_sha256", "ref_sha256", "ref-sha256"];
const DELTA_SIZE: &[&str] = &["dg-delta-size", "dg_delta_size", "delta_size", "delta-size"];
const DELTA_CMD: &[&str] = &["dg-delta-cmd", "dg_delta_cmd", "delta_cmd", "delta-cmd"];
const NOTE: &[&str] = &["dg-note", "dg_note", "note"];
const COMPRESSION: &[&str] = &["dg-compression", "dg_compression", "compression"];
const MD5: &str = "dg-md5";
/// `dg-checksum-<algorithm>`, in the order of [`crate::s3::checksum::ALGORITHMS`].
const CHECKSUM_NAMES: [&str; 5] = [
    "dg-checksum-crc32",
    "dg-checksum-crc32c",
    "dg-checksum-crc64nvme",
    "dg-checksum-sha1",
    "dg-checksum-sha256",
];
const MULTIPART_ETAG: &str = "dg-multipart-etag";
const FORMAT: &str = "dg-format";
const PAYLOAD: &str = "dg-payload";
const RECIPE_SIZE: &str = "dg-recipe-size";
const PAYLOAD_SIZE: &str = "dg-payload-size";

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

/// A client metadata name that collides with DeltaGlider's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "metadata key \"x-amz-meta-{name}\" is reserved: names starting with dg- belong to deltaglider"
)]
pub struct ReservedMetadata {
    /// The rejected name (without `x-amz-meta-`).
    pub name: String,
}

/// Rejects client metadata names starting with `dg-` or `dg_`, in any case.
pub fn check_client_name(name: &str) -> Result<(), ReservedMetadata> {
    if is_internal_name(name, false) {
        Err(ReservedMetadata {
            name: name.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Rejects a request whose `x-amz-meta-*` headers use a reserved name.
pub fn check_client_metadata(headers: &http::HeaderMap) -> Result<(), ReservedMetadata> {
    headers
        .keys()
        .filter_map(|name| name.as_str().strip_prefix("x-amz-meta-"))
        .try_for_each(check_client_name)
}

impl ObjectMeta {
    /// The metadata pairs to store, canonical names only, in a stable order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            (TOOL[0], self.tool.clone()),
            (
                FORMAT,
                if self.gzip.is_some() { "2" } else { "1" }.to_owned(),
            ),
            (NOTE[0], self.kind.note().to_owned()),
            (FILE_SHA256[0], self.file_sha256.to_hex()),
            (CREATED_AT[0], self.created_at.clone()),
        ];
        let mut push = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                out.push((name, value));
            }
        };
        push(FILE_SIZE[0], self.file_size.map(|n| n.to_string()));
        push(ORIGINAL_NAME[0], self.original_name.clone());
        push(SOURCE_NAME[0], self.source_name.clone());
        push(MD5, self.md5.map(|d| d.to_hex()));
        push(MULTIPART_ETAG, self.multipart_etag.clone());
        if let Some(reference) = &self.reference {
            push(REF_KEY[0], Some(reference.key.clone()));
            push(REF_SHA256[0], Some(reference.sha256.to_hex()));
        }
        push(DELTA_SIZE[0], self.delta_size.map(|n| n.to_string()));
        if let Some(gzip) = self.gzip {
            push(PAYLOAD, Some("gzip".into()));
            push(RECIPE_SIZE, Some(gzip.recipe_size.to_string()));
            push(PAYLOAD_SIZE, Some(gzip.payload_size.to_string()));
        }
        for (algorithm, value) in &self.checksums {
            if let Some(name) = crate::s3::checksum::ALGORITHMS
                .iter()
                .zip(CHECKSUM_NAMES)
                .find_map(|(a, n)| (a == algorithm).then_some(n))
            {
                push(name, Some(value.clone()));
            }
        }
        match self.kind {
            Kind::Delta if self.gzip.is_some() => {
                push(COMPRESSION[0], Some("vcdiff-gzip-payload".into()));
            }
            Kind::Delta => {
                push(
                    DELTA_CMD[0],
                    Some("xdelta3 -e -9 -S none -s reference.bin".into()),
                );
                push(COMPRESSION[0], Some("vcdiff".into()));
            }
            Kind::Whole => push(COMPRESSION[0], Some("none".into())),
            Kind::Reference => {}
        }
        out
    }

    /// Reads the metadata of the object stored at `stored_key`, whose kind follows from
    /// the key (FORMAT.md section 5). `get` looks a stored metadata name up.
    pub fn parse<'a>(
        stored_key: &str,
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, MetaError> {
        let (legacy, version) = match get(FORMAT).map(|v| (v, v.trim().parse::<u32>())) {
            None => (true, 1),
            Some((_, Ok(n))) if (1..=FORMAT_VERSION).contains(&n) => (false, n),
            Some((v, _)) => {
                return Err(MetaError::UnsupportedVersion {
                    found: v.to_owned(),
                });
            }
        };
        let field = |names: &[&'static str]| -> Option<&'a str> {
            let names = if legacy { names } else { &names[..1] };
            names.iter().filter_map(|n| get(n)).find(|v| !v.is_empty())
        };
        let required =
            |names: &[&'static str]| field(names).ok_or(MetaError::Missing { name: names[0] });
        let number = |names: &[&'static str]| -> Result<Option<u64>, MetaError> {
            field(names)
                .map(|v| {
                    v.trim().parse().map_err(|_| MetaError::Invalid {
                        name: names[0],
                        value: v.to_owned(),
                    })
                })
                .transpose()
        };
        let sha = |names: &[&'static str]| -> Result<Sha256Digest, MetaError> {
            let v = required(names)?;
            v.trim().parse().map_err(|_| MetaError::Invalid {
                name: names[0],
                value: v.to_owned(),
            })
        };
        let kind = if stored_key.ends_with(keys::DELTA_SUFFIX) {
            Kind::Delta
        } else if keys::is_reference(stored_key) {
            Kind::Reference
        } else {
            Kind::Whole
        };
        let reference = match kind {
            Kind::Delta => {
                let space = keys::deltaspace(stored_key);
                let named = required(REF_KEY)?;
                // A bare name (DeltaGlider Proxy's `dg-ref-path`) is in the delta's space.
                let key = if named.contains('/') {
                    named.to_owned()
                } else {
                    format!("{space}{named}")
                };
                if keys::deltaspace(&key) != space || !keys::is_reference(&key) {
                    return Err(MetaError::ForeignReference { key });
                }
                Some(RefInfo {
                    key,
                    sha256: sha(REF_SHA256)?,
                })
            }
            _ => None,
        };
        let md5 = get(MD5)
            .map(|v| {
                v.trim().parse().map_err(|_| MetaError::Invalid {
                    name: MD5,
                    value: v.to_owned(),
                })
            })
            .transpose()?;
        let file_size = number(FILE_SIZE)?;
        if !legacy && file_size.is_none() {
            return Err(MetaError::Missing { name: FILE_SIZE[0] });
        }
        let gzip = match get(PAYLOAD).map(str::trim) {
            // Version 1 has no payload encodings: such a name there is ignored.
            _ if version < 2 => None,
            None | Some("") => None,
            Some("gzip") if kind == Kind::Delta => {
                let size = |name: &'static str| -> Result<u64, MetaError> {
                    let v = get(name).ok_or(MetaError::Missing { name })?;
                    v.trim().parse().map_err(|_| MetaError::Invalid {
                        name,
                        value: v.to_owned(),
                    })
                };
                Some(GzipPayload {
                    recipe_size: size(RECIPE_SIZE)?,
                    payload_size: size(PAYLOAD_SIZE)?,
                })
            }
            Some(other) => {
                return Err(MetaError::Invalid {
                    name: PAYLOAD,
                    value: other.to_owned(),
                });
            }
        };
        Ok(Self {
            kind,
            tool: field(TOOL).unwrap_or_default().to_owned(),
            file_sha256: sha(FILE_SHA256)?,
            file_size,
            md5,
            multipart_etag: get(MULTIPART_ETAG).map(|v| v.trim_matches('"').to_owned()),
            created_at: field(CREATED_AT).unwrap_or_default().to_owned(),
            original_name: field(ORIGINAL_NAME).map(str::to_owned),
            source_name: field(SOURCE_NAME).map(str::to_owned),
            reference,
            delta_size: number(DELTA_SIZE)?,
            checksums: crate::s3::checksum::ALGORITHMS
                .iter()
                .zip(CHECKSUM_NAMES)
                .filter_map(|(a, n)| get(n).map(|v| ((*a).to_owned(), v.to_owned())))
                .collect(),
            gzip,
        })
    }

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

pub(crate) fn add_metadata(headers: &mut HeaderMap, object: &ObjectMeta) -> Result<(), S3Error> {
    for (name, value) in object.to_pairs() {
        let name = HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes())
            .map_err(|e| S3Error::internal(format!("metadata name {name}: {e}")))?;
        headers.insert(name, header_value(&value)?);
    }
    // S3's limit on user metadata, counted as AWS does: names (without the prefix) and values.
    let total: usize = headers
        .iter()
        .filter_map(|(n, v)| {
            n.as_str()
                .strip_prefix("x-amz-meta-")
                .map(|m| m.len() + v.len())
        })
        .sum();
    if total > MAX_METADATA {
        return Err(S3Error::new(
            "MetadataTooLarge",
            StatusCode::BAD_REQUEST,
            format!(
                "Your metadata headers exceed the maximum allowed metadata size: {total} bytes \
                 with DeltaGlider's own, of {MAX_METADATA}"
            ),
        ));
    }
    Ok(())
}

/// The most user metadata S3 stores with an object, in bytes.
const MAX_METADATA: usize = 2048;

/// `value` as a header value, or 400 `InvalidArgument` when it cannot be one.
pub(crate) fn header_value(value: &str) -> Result<HeaderValue, S3Error> {
    HeaderValue::from_str(value)
        .map_err(|_| S3Error::invalid_argument(format!("value {value:?} cannot be a header")))
}

impl From<ReservedMetadata> for S3Error {
    fn from(e: ReservedMetadata) -> Self {
        Self::invalid_argument(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use deltaglider_codec::{Md5, Sha256};

    use super::*;

    fn parse(stored_key: &str, map: &HashMap<String, String>) -> Result<ObjectMeta, MetaError> {
        ObjectMeta::parse(stored_key, |name| map.get(name).map(String::as_str))
    }

    fn delta_meta() -> ObjectMeta {
        ObjectMeta {
            kind: Kind::Delta,
            tool: "deltaglider-rs/0.1.0".into(),
            file_sha256: Sha256::digest(b"v2"),
            file_size: Some(2),
            md5: Some(Md5::digest(b"v2")),
            multipart_etag: None,
            created_at: "2026-11-25T09:14:03.512000Z".into(),
            original_name: Some("v2.zip".into()),
            source_name: None,
            reference: Some(RefInfo {
                key: "releases/reference.bin".into(),
                sha256: Sha256::digest(b"v1"),
            }),
            delta_size: Some(81),
            checksums: vec![("crc32".into(), "DUoRhQ==".into())],
            gzip: None,
        }
    }

    #[test]
    fn written_metadata_reads_back_and_fits() {
        let meta = delta_meta();
        let map: HashMap<String, String> = meta
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(parse("releases/v2.zip.delta", &map), Ok(meta.clone()));
        let size: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(size < 1024, "{size} bytes of metadata");
        assert_eq!(map["dg-compression"], "vcdiff");
        assert_eq!(meta.etag(), format!("\"{}\"", Md5::digest(b"v2")));
    }

    #[test]
    fn python_cli_legacy_names_are_read() {
        let sha = Sha256::digest(b"v2").to_hex();
        let map: HashMap<String, String> = [
            ("tool", "deltaglider/5.0.0"),
            ("file_sha256", sha.as_str()),
            ("file_size", "2"),
            ("created_at", "2025-01-01T00:00:00"),
            ("ref_key", "releases/reference.bin"),
            ("ref_sha256", sha.as_str()),
            ("delta_size", "10"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let meta = parse("releases/v2.zip.delta", &map).expect("legacy delta");
        assert_eq!(
            meta.reference.as_ref().map(|r| r.key.as_str()),
            Some("releases/reference.bin")
        );
        assert_eq!(meta.file_size, Some(2));
        assert_eq!(meta.etag(), format!("\"{}\"", &sha[..32]));
    }

    #[test]
    fn proxy_relative_ref_path_resolves_in_the_deltaspace() {
        let sha = Sha256::digest(b"x").to_hex();
        let map: HashMap<String, String> = [
            ("dg-file-sha256", sha.as_str()),
            ("dg-ref-path", "reference.bin"),
            ("dg-ref-sha256", sha.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let meta = parse("a/b/x.zip.delta", &map).expect("proxy delta");
        assert_eq!(
            meta.reference.as_ref().map(|r| r.key.as_str()),
            Some("a/b/reference.bin")
        );
    }

    #[test]
    fn bad_metadata_is_refused() {
        let mut map: HashMap<String, String> = delta_meta()
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let parse_v2 = |m: &HashMap<String, String>| parse("releases/v2.zip.delta", m);
        map.insert("dg-ref-key".into(), "other/reference.bin".into());
        assert!(matches!(
            parse_v2(&map),
            Err(MetaError::ForeignReference { .. })
        ));
        map.insert("dg-ref-key".into(), "releases/secret.txt".into());
        assert!(matches!(
            parse_v2(&map),
            Err(MetaError::ForeignReference { .. })
        ));
        map.insert("dg-ref-key".into(), "releases/reference.bin".into());
        map.insert("dg-file-size".into(), "12x".into());
        assert!(matches!(parse_v2(&map), Err(MetaError::Invalid { .. })));
        map.remove("dg-file-size");
        assert_eq!(
            parse_v2(&map),
            Err(MetaError::Missing {
                name: "dg-file-size"
            })
        );
        map.insert("dg-format".into(), "3".into());
        assert!(matches!(
            parse_v2(&map),
            Err(MetaError::UnsupportedVersion { .. })
        ));
        map.insert("dg-format".into(), "two".into());
        assert!(matches!(
            parse_v2(&map),
            Err(MetaError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn gzip_payload_deltas_are_version_2() {
        let mut meta = delta_meta();
        meta.gzip = Some(GzipPayload {
            recipe_size: 321,
            payload_size: 10_240,
        });
        let mut map: HashMap<String, String> = meta
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(map["dg-format"], "2");
        assert_eq!(map["dg-payload"], "gzip");
        assert!(!map.contains_key("dg-delta-cmd"), "not an xdelta3 delta");
        assert_eq!(parse("releases/v2.zip.delta", &map), Ok(meta));
        // Version 1 objects stay version 1.
        assert_eq!(delta_meta().to_pairs()[1], ("dg-format", "1".to_owned()));
        // A payload encoding this reader does not know, or missing sizes: refused.
        map.insert("dg-payload".into(), "zstd".into());
        assert!(matches!(
            parse("releases/v2.zip.delta", &map),
            Err(MetaError::Invalid {
                name: "dg-payload",
                ..
            })
        ));
        map.insert("dg-payload".into(), "gzip".into());
        map.remove("dg-recipe-size");
        assert_eq!(
            parse("releases/v2.zip.delta", &map),
            Err(MetaError::Missing {
                name: "dg-recipe-size"
            })
        );
    }

    #[test]
    fn internal_names_are_hidden_and_reserved() {
        assert!(is_internal_name("dg-note", false));
        assert!(is_internal_name("DG_Anything", false));
        assert!(!is_internal_name("file_sha256", false));
        assert!(is_internal_name("file_sha256", true));
        assert!(!is_internal_name("project", true));
        assert!(check_client_name("Dg-Note").is_err());
        assert!(check_client_name("build-id").is_ok());
    }
}
