//! The PUT of a stored form: its bytes, the client's headers S3 keeps with an object, and
//! DeltaGlider's metadata.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method};

use crate::body::{Either, Streamed, collect_limited};
use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, Stop, pass_error};
use crate::s3::error::S3Error;
use crate::stored::meta::{Kind, ObjectMeta, add_metadata, header_value};
use http_body_util::BodyExt;

/// Client headers stored with the object, as S3 would store them.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-language",
    "expires",
    "x-amz-tagging",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
];

/// Writes `body` under `stored_key` with the headers of `client` that S3 keeps, and with
/// `object`'s metadata unless it is stored as a plain S3 would store it (`None`).
pub(super) async fn write<T: Backend>(
    call: Call<'_, T>,
    stored_key: &str,
    client: &HeaderMap,
    body: Bytes,
    object: Option<&ObjectMeta>,
) -> Result<(), Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let mut request = inner.request(Method::PUT, bucket, stored_key, "");
    if let Some(headers) = request.headers_mut() {
        headers.extend(stored_headers(client, object)?);
    }
    let stored = inner.fetch(request, body, 64 << 10).await?;
    if !stored.status.is_success() {
        return Err(pass_error(stored));
    }
    Ok(())
}

/// Writes `body` (`len` bytes, produced while it is sent) whole under `stored_key` with
/// the headers of `client` that S3 keeps; the ETag the backend gives it. A body that ends
/// with an error leaves nothing stored: the backend gets less than `Content-Length`.
pub(super) async fn write_streamed<T: Backend>(
    call: Call<'_, T>,
    stored_key: &str,
    client: &HeaderMap,
    body: Streamed,
    len: u64,
) -> Result<String, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let mut request = inner
        .request(Method::PUT, bucket, stored_key, "")
        .header(header::CONTENT_LENGTH, len);
    if let Some(headers) = request.headers_mut() {
        headers.extend(stored_headers(client, None)?);
    }
    // The body's own failure, if it fails: the reason the backend then refuses the write.
    let failure = Arc::new(Mutex::new(None::<String>));
    let observed = {
        let failure = Arc::clone(&failure);
        body.into_data_stream().inspect_err(move |e| {
            *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
        })
    };
    let request = request
        .body(Either::streamed(Streamed::new(Box::pin(observed), len)))
        .map_err(|e| S3Error::internal(format!("building an inner request: {e}")))?;
    let sent = inner.send(request).await;
    if let Some(why) = failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(S3Error::internal(format!(
            "the source could not be read back exactly ({why}); nothing was stored"
        ))
        .into());
    }
    let (parts, body) = sent.map_err(Stop::Inner)?.into_parts();
    let body = collect_limited(body, 64 << 10)
        .await
        .map_err(|e| S3Error::internal(format!("reading the backend's response: {e}")))?;
    if !parts.status.is_success() {
        return Err(pass_error(Fetched {
            status: parts.status,
            headers: parts.headers,
            body,
        }));
    }
    parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            S3Error::internal(format!("the backend stored {stored_key} without an ETag")).into()
        })
}

/// The headers a stored form is written with: those of `client` that S3 keeps, and
/// `object`'s metadata unless it is stored as a plain S3 would store it (`None`).
pub(super) fn stored_headers(
    client: &HeaderMap,
    object: Option<&ObjectMeta>,
) -> Result<HeaderMap, S3Error> {
    let mut headers = HeaderMap::new();
    copy_client_headers(client, &mut headers);
    if let Some(object) = object {
        add_object_headers(&mut headers, object)?;
    }
    Ok(headers)
}

/// DeltaGlider's metadata, and the client's checksums where the body is the original.
fn add_object_headers(headers: &mut HeaderMap, object: &ObjectMeta) -> Result<(), S3Error> {
    add_metadata(headers, object)?;
    if object.kind == Kind::Whole {
        // The body is the original: the backend can check and keep the checksums too.
        for (algorithm, value) in &object.checksums {
            headers.insert(
                HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes())
                    .map_err(|e| S3Error::internal(e.to_string()))?,
                header_value(value)?,
            );
        }
    }
    Ok(())
}

/// Copies the headers S3 keeps with an object; `Content-Encoding` without the transfer's
/// `aws-chunked`.
fn copy_client_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        let name_str = name.as_str();
        if KEPT_HEADERS.contains(&name_str) || name_str.starts_with("x-amz-meta-") {
            to.append(name.clone(), value.clone());
        }
    }
    if let Some(encoding) = from
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    {
        let kept: Vec<&str> = encoding
            .split(',')
            .map(str::trim)
            .filter(|e| !e.eq_ignore_ascii_case("aws-chunked") && !e.is_empty())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&kept.join(", "))
            && !kept.is_empty()
        {
            to.insert(header::CONTENT_ENCODING, value);
        }
    }
}
