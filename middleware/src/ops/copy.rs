//! CopyObject: the copy reads back identical bytes and metadata, whichever way source and
//! destination are stored.

use http::{HeaderMap, HeaderValue, Request, Response, header, request::Parts};

use crate::body::{Either, RequestBody};
use crate::call::{Backend, Call, Outcome};
use crate::inner::Stop;
use crate::ops::get;
use crate::ops::put::{Original, store_bytes};
use crate::s3::copy_source;
use crate::s3::error::S3Error;
use crate::s3::time;
use crate::s3::xml::escape_into;
use crate::stored::keys;
use crate::stored::meta;

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
    let (source_bucket, source_key) = parse_source(&parts.headers)?;
    keys::check_user_key(&source_key).map_err(S3Error::from)?;
    let replace = match parts
        .headers
        .get("x-amz-metadata-directive")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(
                S3Error::invalid_argument(format!("Unknown metadata directive {other:?}")).into(),
            );
        }
    };
    if replace {
        meta::check_client_metadata(&parts.headers).map_err(S3Error::from)?;
    }
    let config = &shared.config;
    let source_may_be_delta = config.is_eligible(&source_key);
    if !source_may_be_delta && !config.is_eligible(key) {
        // Whole object to whole object: the backend copies it itself.
        let response = inner
            .send(Request::from_parts(parts, body))
            .await
            .map_err(Stop::Inner)?;
        return Ok(response.map(Either::passthrough));
    }
    let Some((data, source_headers)) =
        get::read_original(call.at(&source_bucket, &source_key)).await?
    else {
        return Err(S3Error::no_such_key(&source_key).into());
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
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LastModified>",
    );
    let now = time::rfc3339_micros(inner.now_micros());
    // S3 writes milliseconds.
    xml.push_str(&format!("{}Z", &now[..23]));
    xml.push_str("</LastModified><ETag>");
    escape_into(&mut xml, &stored.etag);
    xml.push_str("</ETag></CopyObjectResult>");
    let mut response = Response::new(Either::full(xml));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    headers.insert(
        "x-amz-storage-type",
        HeaderValue::from_static(stored.storage),
    );
    Ok(response)
}

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
pub(crate) fn parse_source(headers: &HeaderMap) -> Result<(String, String), S3Error> {
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
}
