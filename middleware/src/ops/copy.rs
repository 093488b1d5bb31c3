//! CopyObject: the copy reads back identical bytes and metadata, whichever way source and
//! destination are stored.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header, request::Parts};

use crate::body::{Either, RequestBody, ResponseBody};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::ops::get::{self, Readback};
use crate::ops::put::store::{Original, store_bytes};
use crate::ops::put::{self, admit};
use crate::s3::copy_source;
use crate::s3::error::S3Error;
use crate::s3::time;
use crate::s3::xml::escape_into;
use crate::stored::keys;
use crate::stored::meta;

/// The largest source S3 copies in one CopyObject (larger ones take UploadPartCopy).
const MAX_COPY_SOURCE: u64 = 5 << 30;

/// Handles CopyObject.
pub(crate) async fn copy<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call {
        shared, inner, key, ..
    } = call;
    keys::check_user_key(key).map_err(S3Error::from)?;
    let source = Source::from_headers(&parts.headers)?;
    let replace = replaces_metadata(&parts.headers)?;
    if replace {
        meta::check_client_metadata(&parts.headers).map_err(S3Error::from)?;
    }
    let config = &shared.config;
    if !config.is_eligible(&source.key) && !config.is_eligible(key) {
        // Whole object to whole object: the backend copies it itself.
        return admit::forward(call, parts, body).await;
    }
    let (data, source_headers) = match source.read(call).await? {
        Readback::Held(data, headers) => (data, headers),
        Readback::Streamed(_, len, _) if len > MAX_COPY_SOURCE => {
            return Err(S3Error::new(
                "InvalidRequest",
                StatusCode::BAD_REQUEST,
                format!(
                    "The specified copy source is larger than the maximum allowable size \
                     for a copy source: {MAX_COPY_SOURCE}"
                ),
            )
            .into());
        }
        Readback::Streamed(body, len, source_headers) => {
            let headers = if replace {
                &parts.headers
            } else {
                &source_headers
            };
            let etag = put::put_streamed(call, headers, body, len).await?;
            return Ok(copy_result(inner.now_micros(), &etag));
        }
    };
    let headers = if replace {
        &parts.headers
    } else {
        &source_headers
    };
    let original = Original {
        data,
        md5: None,
        multipart_etag: None,
        checksums: Vec::new(),
    };
    let stored = store_bytes(call, headers, original).await?;
    let mut response = copy_result(inner.now_micros(), &stored.etag);
    response.headers_mut().insert(
        "x-amz-storage-type",
        HeaderValue::from_static(stored.storage),
    );
    Ok(response)
}

/// The object a copy reads (`x-amz-copy-source`), for CopyObject and UploadPartCopy.
pub(crate) struct Source {
    /// Its bucket.
    pub(crate) bucket: String,
    /// Its user key.
    pub(crate) key: String,
}

impl Source {
    /// The source the request names; a key the storage layout reserves is refused as a
    /// source too.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Result<Self, S3Error> {
        let (bucket, key) = parse_source(headers)?;
        keys::check_user_key(&key)?;
        Ok(Self { bucket, key })
    }

    /// Whether it is stored as a delta (`<key>.delta` exists): else the backend can copy
    /// from it itself.
    pub(crate) async fn stored_as_delta<T: Backend>(
        &self,
        call: Call<'_, T>,
    ) -> Result<bool, Stopped<T>> {
        let Call { inner, .. } = call;
        if !call.shared.config.is_eligible(&self.key) {
            return Ok(false);
        }
        let delta_key = keys::delta_key(&self.key);
        let probe = inner
            .fetch(
                inner.request(Method::HEAD, &self.bucket, &delta_key, ""),
                Bytes::new(),
                64 << 10,
            )
            .await?;
        Ok(probe.status != StatusCode::NOT_FOUND)
    }

    /// Its original bytes and the headers that describe them, whichever way it is stored;
    /// `NoSuchKey` when it does not exist.
    pub(crate) async fn read<T: Backend>(&self, call: Call<'_, T>) -> Result<Readback, Stopped<T>> {
        get::read_original(call.at(&self.bucket, &self.key))
            .await?
            .ok_or_else(|| S3Error::no_such_key(&self.key).into())
    }
}

/// `x-amz-metadata-directive`: whether the copy takes the request's metadata (`REPLACE`)
/// rather than the source's (`COPY`, the default).
fn replaces_metadata(headers: &HeaderMap) -> Result<bool, S3Error> {
    match headers
        .get("x-amz-metadata-directive")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("COPY") => Ok(false),
        Some("REPLACE") => Ok(true),
        Some(other) => Err(S3Error::invalid_argument(format!(
            "Unknown metadata directive {other:?}"
        ))),
    }
}

/// The `CopyObjectResult` document for a copy stored at `now_micros` with `etag` (quoted).
fn copy_result<RB>(now_micros: u64, etag: &str) -> Response<ResponseBody<RB>> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LastModified>",
    );
    let now = time::rfc3339_micros(now_micros);
    // S3 writes milliseconds.
    xml.push_str(&format!("{}Z", &now[..23]));
    xml.push_str("</LastModified><ETag>");
    escape_into(&mut xml, etag);
    xml.push_str("</ETag></CopyObjectResult>");
    let mut response = Response::new(Either::full(xml));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
fn parse_source(headers: &HeaderMap) -> Result<(String, String), S3Error> {
    let invalid = || {
        S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    };
    headers
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .and_then(copy_source::parse)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        let parse = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("x-amz-copy-source", HeaderValue::from_static(v));
            parse_source(&h).ok()
        };
        assert_eq!(parse("/b/a%20b.zip"), Some(("b".into(), "a b.zip".into())));
        assert_eq!(
            parse("b/dir/k?versionId=3"),
            Some(("b".into(), "dir/k".into()))
        );
        assert_eq!(parse("b"), None);
        assert_eq!(parse("/b/"), None);
    }

    #[test]
    fn metadata_directives() {
        let directive = |v: Option<&'static str>| {
            let mut h = HeaderMap::new();
            if let Some(v) = v {
                h.insert("x-amz-metadata-directive", HeaderValue::from_static(v));
            }
            replaces_metadata(&h).ok()
        };
        assert_eq!(directive(None), Some(false));
        assert_eq!(directive(Some("COPY")), Some(false));
        assert_eq!(directive(Some("REPLACE")), Some(true));
        assert_eq!(directive(Some("replace")), None);
    }
}
