//! Writing metadata: canonical `dg-` names only, format version 1, or 2 for payload
//! deltas, within S3's limit on user metadata.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::names::{
    CHECKSUM_NAMES, COMPRESSION, CREATED_AT, DELTA_CMD, DELTA_SIZE, FILE_SHA256, FILE_SIZE, FORMAT,
    MD5, MULTIPART_ETAG, NOTE, ORIGINAL_NAME, PAYLOAD, PAYLOAD_SIZE, RECIPE_SIZE, REF_KEY, REF_SEQ,
    REF_SHA256, SOURCE_NAME, TOOL,
};
use super::object::{Kind, ObjectMeta};
use crate::s3::error::S3Error;
use crate::s3::metadata::{MAX_USER_METADATA, user_metadata_size};

impl ObjectMeta {
    /// The metadata pairs to store, canonical names only, in a stable order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            (TOOL[0], self.tool.clone()),
            (
                FORMAT,
                if self.kind == Kind::Reference && self.reference.is_some() {
                    "3"
                } else if self.payload_delta.is_some() {
                    "2"
                } else {
                    "1"
                }
                .to_owned(),
            ),
            (NOTE[0], note(self.kind).to_owned()),
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
        push(
            REF_SEQ,
            (self.ref_seq > 0).then(|| self.ref_seq.to_string()),
        );
        if let Some(gzip) = self.payload_delta {
            push(PAYLOAD, Some(gzip.container.name().into()));
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
            Kind::Delta if let Some(p) = self.payload_delta => {
                push(
                    COMPRESSION[0],
                    Some(format!("vcdiff-{}-payload", p.container.name())),
                );
            }
            Kind::Delta => {
                push(
                    DELTA_CMD[0],
                    Some("xdelta3 -e -9 -S none -s reference.bin".into()),
                );
                push(COMPRESSION[0], Some("vcdiff".into()));
            }
            Kind::Whole => push(COMPRESSION[0], Some("none".into())),
            Kind::Reference if self.reference.is_some() => {
                push(COMPRESSION[0], Some("vcdiff".into()));
            }
            Kind::Reference => {}
        }
        out
    }
}

/// The `dg-note` of each kind, as the Python CLI writes it.
fn note(kind: Kind) -> &'static str {
    match kind {
        Kind::Reference => "reference",
        Kind::Delta => "delta",
        Kind::Whole => "passthrough",
    }
}

/// Adds `object`'s metadata to the headers of a write; 400 `MetadataTooLarge` when the
/// client's metadata and DeltaGlider's together exceed what S3 stores.
pub(crate) fn add_metadata(headers: &mut HeaderMap, object: &ObjectMeta) -> Result<(), S3Error> {
    for (name, value) in object.to_pairs() {
        let name = HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes())
            .map_err(|e| S3Error::internal(format!("metadata name {name}: {e}")))?;
        headers.insert(name, header_value(&value)?);
    }
    let total = user_metadata_size(headers);
    if total > MAX_USER_METADATA {
        return Err(S3Error::new(
            "MetadataTooLarge",
            StatusCode::BAD_REQUEST,
            format!(
                "Your metadata headers exceed the maximum allowed metadata size: {total} bytes \
                 with DeltaGlider's own, of {MAX_USER_METADATA}"
            ),
        ));
    }
    Ok(())
}

/// `value` as a header value, or 400 `InvalidArgument` when it cannot be one.
pub(crate) fn header_value(value: &str) -> Result<HeaderValue, S3Error> {
    HeaderValue::from_str(value)
        .map_err(|_| S3Error::invalid_argument(format!("value {value:?} cannot be a header")))
}
