//! What the large-object path passes between its steps: the object as the backend holds
//! it, the reference found for it, the encoding.

use bytes::Bytes;
use deltaglider_codec::{Md5Digest, Sha256Digest};
use http::{HeaderMap, header};

use crate::inner::Fetched;
use crate::ops::get::descriptive_headers;

/// An object sitting whole in the backend, as a HEAD described it.
pub(crate) struct Whole {
    /// Its length.
    pub(crate) size: u64,
    /// Its ETag as the backend sends it (quoted).
    pub(crate) etag: String,
    /// The multipart ETag (unquoted) when a multipart upload made it.
    pub(crate) multipart_etag: Option<String>,
    /// The headers S3 keeps with it (content type, user metadata…).
    pub(crate) headers: HeaderMap,
}

impl Whole {
    /// The object a HEAD answered for; `None` when the answer lacks a length or an ETag.
    pub(crate) fn from_head(head: &Fetched, multipart_etag: Option<String>) -> Option<Self> {
        let value = |name| head.headers.get(name).and_then(|v| v.to_str().ok());
        Some(Self {
            size: value(header::CONTENT_LENGTH)?.parse().ok()?,
            etag: value(header::ETAG)?.to_owned(),
            multipart_etag,
            headers: descriptive_headers(&head.headers),
        })
    }
}

/// A reference read by ranges: its key, SHA-256 and length.
pub(crate) struct Found {
    pub(crate) key: String,
    pub(crate) sha256: Sha256Digest,
    pub(crate) len: u64,
}

/// What encoding the object made.
pub(crate) struct Encoded {
    /// The delta, held when it fits in `max_object_size`; `None` when it is larger: then
    /// it is written by a second pass, which streams it to the backend.
    pub(crate) delta: Option<Bytes>,
    /// The delta's length.
    pub(crate) len: u64,
    pub(crate) sha256: Sha256Digest,
    pub(crate) md5: Md5Digest,
}
