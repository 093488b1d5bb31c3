//! The response to a GET or HEAD of a delta-stored object: the answer to a conditional
//! request, the headers that describe the original, and the response around a body.

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Response, StatusCode, request::Parts};

use super::headers::{apply_overrides, descriptive_headers};
use crate::body::{Either, ResponseBody};
use crate::call::{Backend, Stopped};
use crate::s3;
use crate::s3::conditions::precondition;
use crate::s3::error::S3Error;
use crate::stored::meta::{ObjectMeta, header_value};

/// A response of `T`'s stack.
pub(super) type Reply<T> = Response<ResponseBody<<T as Backend>::Reply>>;

/// The answer to a conditional request the object (ETag `etag`, stored with `stored`
/// headers) does not satisfy: 304 Not Modified, or the PreconditionFailed error. `None`:
/// serve the object.
pub(super) fn unsatisfied<T: Backend>(
    client: &Parts,
    stored: &HeaderMap,
    etag: &str,
) -> Result<Option<Reply<T>>, Stopped<T>> {
    let last_modified = stored
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(s3::time::parse_http_date);
    let Some(status) = precondition(&client.headers, etag, last_modified) else {
        return Ok(None);
    };
    let etag = header_value(etag)?;
    if status == StatusCode::PRECONDITION_FAILED {
        return Err(S3Error::new(
            "PreconditionFailed",
            status,
            "At least one of the pre-conditions you specified did not hold",
        )
        .into());
    }
    let mut response = Response::new(Either::empty());
    *response.status_mut() = status;
    response.headers_mut().insert(header::ETAG, etag);
    Ok(Some(response))
}

/// The headers of the original: those of the stored delta that describe it too, the
/// client's `response-*` overrides, its ETag, and — when the client asked for them on a
/// whole-object read — the checksums recorded at upload.
pub(super) fn object_headers<T: Backend>(
    client: &Parts,
    stored: &HeaderMap,
    meta: &ObjectMeta,
    etag: &str,
) -> Result<HeaderMap, Stopped<T>> {
    let mut headers = descriptive_headers(stored);
    apply_overrides(client, &mut headers)?;
    headers.insert(header::ETAG, header_value(etag)?);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert("x-amz-storage-type", HeaderValue::from_static("delta"));
    let checksum_mode = client
        .headers
        .get("x-amz-checksum-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"enabled"));
    let whole_object = client.headers.get(header::RANGE).is_none();
    if checksum_mode && whole_object {
        for (algorithm, value) in &meta.checksums {
            if let Ok(name) =
                HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes())
            {
                headers.insert(name, header_value(value)?);
            }
        }
    }
    Ok(headers)
}

/// A response of `status` with `headers` and `body`, which is `len` bytes long.
pub(super) fn respond<T: Backend>(
    status: StatusCode,
    mut headers: HeaderMap,
    len: u64,
    body: ResponseBody<T::Reply>,
) -> Reply<T> {
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
