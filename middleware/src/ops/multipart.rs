//! Multipart uploads: parts go straight to the backend; on completion an eligible object is
//! read back and stored through the one store path, keeping its multipart ETag — or, above
//! `max_object_size`, by the large-object path in bounded memory while the client is kept
//! waiting with whitespace ([`padded`]). No upload state is held between requests.

mod padded;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header, request::Parts};

use crate::body::{Either, RequestBody, collect_limited};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::Fetched;
use crate::inner::{Stop, pass_error};
use crate::ops::copy::Source;
use crate::ops::get::{self, descriptive_headers};
use crate::ops::put::admit;
use crate::ops::put::cleanup::drop_older_delta;
use crate::ops::put::large::{self, Whole};
use crate::ops::put::store::{Original, store_bytes};
use crate::s3::error::S3Error;
use crate::s3::time;
use crate::s3::xml::{self, Completion};
use crate::stored::keys;

/// Checks the key (and, for CreateMultipartUpload, the client's metadata names), then
/// forwards the request untouched.
pub(crate) async fn checked_forward<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    admit::check(call.key, &parts.headers)?;
    admit::forward(call, parts, body).await
}

/// Handles CompleteMultipartUpload.
pub(crate) async fn complete<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call {
        inner, bucket, key, ..
    } = call;
    if !call.shared.config.is_eligible(key) {
        return checked_forward(call, parts, body).await;
    }
    keys::check_user_key(key).map_err(S3Error::from)?;
    let response = inner
        .send(Request::from_parts(parts, body))
        .await
        .map_err(Stop::Inner)?;
    let (response_parts, response_body) = response.into_parts();
    let result = collect_limited(response_body, 1 << 20)
        .await
        .map_err(|e| S3Error::internal(format!("reading the backend's completion: {e}")))?;
    let reply = |result: Bytes| Response::from_parts(response_parts.clone(), Either::full(result));
    // S3 can answer 200 with an error document for this operation.
    if !response_parts.status.is_success() {
        return Ok(reply(result));
    }
    let etag = match xml::parse_completion(&result) {
        Ok(Completion::Completed { etag }) => etag,
        Ok(Completion::Failed { .. }) => return Ok(reply(result)),
        Err(e) => {
            tracing::warn!(bucket, key, error = %e, "unreadable completion: object stays whole");
            return Ok(reply(result));
        }
    };
    let head = inner.head(bucket, key).await?;
    if !head.status.is_success() {
        // Gone already (a concurrent delete): nothing to store.
        return Ok(reply(result));
    }
    let whole = Whole::from_head(&head, Some(etag.clone()));
    if let Some(whole) = whole.filter(|w| large::applies(call, w.size)) {
        return Ok(padded::reply(call, response_parts, &result, whole));
    }
    store_completed(call, &head, etag).await?;
    Ok(reply(result))
}

/// Reads the object a multipart upload with `etag` just assembled (`head` describes it)
/// back and stores it through the store path — unless it is too large to hold: then it
/// stays whole.
async fn store_completed<T: Backend>(
    call: Call<'_, T>,
    head: &Fetched,
    etag: String,
) -> Result<(), Stopped<T>> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let limit = call.shared.config.max_object_size;
    let size = head
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if size.is_none_or(|n| n > limit) {
        // Too large to encode: it stays whole.
        return drop_older_delta(call).await;
    }
    let whole = inner
        .fetch(
            inner.request(Method::GET, bucket, key, ""),
            Bytes::new(),
            limit,
        )
        .await?;
    if whole.status != StatusCode::OK {
        return Err(pass_error(whole));
    }
    let headers = descriptive_headers(&whole.headers);
    let original = Original {
        data: whole.body,
        md5: None,
        multipart_etag: Some(etag),
        checksums: Vec::new(),
    };
    let stored = store_bytes(call, &headers, original).await?;
    tracing::info!(
        bucket,
        key,
        storage = stored.storage,
        "multipart upload stored"
    );
    Ok(())
}

/// Handles UploadPartCopy. A source stored as a delta is reconstructed and the part is
/// uploaded with its bytes; any other source is copied by the backend itself.
pub(crate) async fn upload_part_copy<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    keys::check_user_key(call.key).map_err(S3Error::from)?;
    let source = Source::from_headers(&parts.headers)?;
    if !source.stored_as_delta(call).await? {
        return checked_forward(call, parts, body).await;
    }
    let range = parts
        .headers
        .get("x-amz-copy-source-range")
        .and_then(|v| v.to_str().ok());
    let from = call.at(&source.bucket, &source.key);
    let Some(slice) = get::read_delta_part(from, range).await? else {
        // No longer a delta (rewritten meanwhile): the backend copies it itself.
        return checked_forward(call, parts, body).await;
    };
    let Call {
        inner, bucket, key, ..
    } = call;
    let md5 = deltaglider_codec::Md5::digest(&slice);
    let request = inner.request(Method::PUT, bucket, key, parts.uri.query().unwrap_or(""));
    let uploaded = inner.fetch(request, slice, 64 << 10).await?;
    if !uploaded.status.is_success() {
        return Err(pass_error(uploaded));
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyPartResult><LastModified>{}</LastModified><ETag>&quot;{}&quot;</ETag></CopyPartResult>",
        time::rfc3339_micros(inner.now_micros()),
        md5
    );
    let mut response = Response::new(Either::full(xml));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    Ok(response)
}
