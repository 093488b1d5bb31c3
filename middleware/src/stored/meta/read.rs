//! Reading metadata: every format version from 1 up to [`FORMAT_VERSION`], and on objects
//! without `dg-format` the legacy names of the Python CLI and DeltaGlider Proxy too.

use std::str::FromStr;

use deltaglider_codec::Sha256Digest;

use super::error::MetaError;
use super::names::{
    CHECKSUM_NAMES, CREATED_AT, DELTA_SIZE, FILE_SHA256, FILE_SIZE, FORMAT, MD5, MULTIPART_ETAG,
    ORIGINAL_NAME, PAYLOAD, PAYLOAD_SIZE, RECIPE_SIZE, REF_KEY, REF_SEQ, REF_SHA256, SOURCE_NAME,
    TOOL,
};
use super::object::{Container, FORMAT_VERSION, Kind, ObjectMeta, PayloadDelta, RefInfo};
use crate::stored::keys;

impl ObjectMeta {
    /// Reads the metadata of the object stored at `stored_key`, whose kind follows from
    /// the key (FORMAT.md section 5). `get` looks a stored metadata name up.
    pub fn parse<'a>(
        stored_key: &str,
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, MetaError> {
        let version = format_version(get(FORMAT))?;
        let fields = Fields {
            get,
            legacy: version.is_none(),
        };
        let kind = kind_of(stored_key);
        let reference = match kind {
            Kind::Delta => Some(fields.reference(stored_key)?),
            // A reference stored as a delta of an older one (version 3 only: legacy
            // references never name one).
            Kind::Reference if version >= Some(3) && fields.exact(REF_KEY[0]).is_some() => {
                Some(fields.reference(stored_key)?)
            }
            _ => None,
        };
        let ref_seq = match &reference {
            Some(_) if kind == Kind::Reference => fields
                .exact(REF_SEQ)
                .map(|v| value(REF_SEQ, v))
                .transpose()?
                .unwrap_or(0),
            _ => 0,
        };
        let md5 = fields.exact(MD5).map(|v| value(MD5, v)).transpose()?;
        let file_size = fields.number(FILE_SIZE)?;
        if !fields.legacy && file_size.is_none() {
            return Err(MetaError::Missing { name: FILE_SIZE[0] });
        }
        let gzip = fields.gzip(version.unwrap_or(1), kind)?;
        Ok(Self {
            kind,
            tool: fields.field(TOOL).unwrap_or_default().to_owned(),
            file_sha256: fields.sha(FILE_SHA256)?,
            file_size,
            md5,
            multipart_etag: fields
                .exact(MULTIPART_ETAG)
                .map(|v| v.trim_matches('"').to_owned()),
            created_at: fields.field(CREATED_AT).unwrap_or_default().to_owned(),
            original_name: fields.field(ORIGINAL_NAME).map(str::to_owned),
            source_name: fields.field(SOURCE_NAME).map(str::to_owned),
            reference,
            ref_seq,
            delta_size: fields.number(DELTA_SIZE)?,
            checksums: fields.checksums(),
            payload_delta: gzip,
        })
    }
}

/// The object's format version, `None` on legacy objects (no `dg-format`, read as 1).
fn format_version(found: Option<&str>) -> Result<Option<u32>, MetaError> {
    match found.map(|v| (v, v.trim().parse::<u32>())) {
        None => Ok(None),
        Some((_, Ok(n))) if (1..=FORMAT_VERSION).contains(&n) => Ok(Some(n)),
        Some((v, _)) => Err(MetaError::UnsupportedVersion {
            found: v.to_owned(),
        }),
    }
}

/// What the stored key says the object is.
fn kind_of(stored_key: &str) -> Kind {
    if stored_key.ends_with(keys::DELTA_SUFFIX) {
        Kind::Delta
    } else if keys::is_reference(stored_key) {
        Kind::Reference
    } else {
        Kind::Whole
    }
}

/// A field's value parsed, or [`MetaError::Invalid`] under its canonical name.
fn value<T: FromStr>(name: &'static str, found: &str) -> Result<T, MetaError> {
    found.trim().parse().map_err(|_| MetaError::Invalid {
        name,
        value: found.to_owned(),
    })
}

/// An object's stored metadata, looked up by field.
struct Fields<G> {
    get: G,
    /// No `dg-format`: legacy aliases are read too.
    legacy: bool,
}

impl<'a, G: Fn(&str) -> Option<&'a str>> Fields<G> {
    /// A name with no aliases.
    fn exact(&self, name: &str) -> Option<&'a str> {
        (self.get)(name)
    }

    /// The first non-empty value among a field's names (only the canonical one on
    /// objects that carry `dg-format`).
    fn field(&self, names: &[&'static str]) -> Option<&'a str> {
        let names = if self.legacy { names } else { &names[..1] };
        names
            .iter()
            .filter_map(|n| (self.get)(n))
            .find(|v| !v.is_empty())
    }

    fn required(&self, names: &[&'static str]) -> Result<&'a str, MetaError> {
        self.field(names)
            .ok_or(MetaError::Missing { name: names[0] })
    }

    fn number(&self, names: &[&'static str]) -> Result<Option<u64>, MetaError> {
        self.field(names).map(|v| value(names[0], v)).transpose()
    }

    fn sha(&self, names: &[&'static str]) -> Result<Sha256Digest, MetaError> {
        value(names[0], self.required(names)?)
    }

    /// The reference of the delta at `stored_key`, which must be a reference of the
    /// delta's own deltaspace.
    fn reference(&self, stored_key: &str) -> Result<RefInfo, MetaError> {
        let space = keys::deltaspace(stored_key);
        let named = self.required(REF_KEY)?;
        // A bare name (DeltaGlider Proxy's `dg-ref-path`) is in the delta's space.
        let key = if named.contains('/') {
            named.to_owned()
        } else {
            format!("{space}{named}")
        };
        if keys::deltaspace(&key) != space || !keys::is_reference(&key) {
            return Err(MetaError::ForeignReference { key });
        }
        Ok(RefInfo {
            key,
            sha256: self.sha(REF_SHA256)?,
        })
    }

    /// The payload encoding of a version 2 delta.
    fn gzip(&self, version: u32, kind: Kind) -> Result<Option<PayloadDelta>, MetaError> {
        let size = |name: &'static str| -> Result<u64, MetaError> {
            value(name, self.exact(name).ok_or(MetaError::Missing { name })?)
        };
        match self.exact(PAYLOAD).map(str::trim) {
            // Version 1 has no payload encodings: such a name there is ignored.
            _ if version < 2 => Ok(None),
            None | Some("") => Ok(None),
            Some(name @ ("gzip" | "zip" | "bzip2" | "xz")) if kind == Kind::Delta => {
                Ok(Some(PayloadDelta {
                    container: match name {
                        "zip" => Container::Zip,
                        "bzip2" => Container::Bzip2,
                        "xz" => Container::Xz,
                        _ => Container::Gzip,
                    },
                    recipe_size: size(RECIPE_SIZE)?,
                    payload_size: size(PAYLOAD_SIZE)?,
                }))
            }
            Some(other) => Err(MetaError::Invalid {
                name: PAYLOAD,
                value: other.to_owned(),
            }),
        }
    }

    /// The client's checksums of the original, by algorithm.
    fn checksums(&self) -> Vec<(String, String)> {
        crate::s3::checksum::ALGORITHMS
            .iter()
            .zip(CHECKSUM_NAMES)
            .filter_map(|(a, n)| self.exact(n).map(|v| ((*a).to_owned(), v.to_owned())))
            .collect()
    }
}
