//! Multipart uploads over R2's multipart API. R2 keeps the upload state; parts must be
//! of equal size except the last (R2's rule, stricter than S3's).

use bytes::Bytes;
use deltaglider::s3::query;
use deltaglider::s3::range::copy_source_range;
use deltaglider::s3::time::rfc3339_millis;
use deltaglider::{BoxError, Either, S3Error};
use http::request::Parts;
use http::{HeaderMap, Request, Response, StatusCode, Uri, header};
use http_body::Body;
use worker::{MultipartUpload, Range, UploadedPart};

use super::binding::R2Service;
use super::object::{copy_source_object, request_metadata};
use super::reply::{Answer, value, xml};
use crate::body::{R2Body, into_data, r2_failed, read_limited};
use crate::xml::{complete_upload, copy_result, initiate_upload, parse_complete};

/// Handles CreateMultipartUpload: the object's metadata is fixed now, as in S3.
pub(super) async fn create(service: &R2Service, key: &str, headers: &HeaderMap) -> Answer {
    let (http, custom) = request_metadata(headers);
    let upload = service
        .bucket()
        .create_multipart_upload(key)
        .http_metadata(http)
        .custom_metadata(custom)
        .execute()
        .await
        .map_err(|e| r2_failed("creating an upload", &e))?;
    let id = upload.upload_id().await;
    Ok(xml(initiate_upload(service.name(), key, &id)))
}

/// The upload named by the request's `uploadId`.
fn upload(service: &R2Service, key: &str, uri: &Uri) -> Result<MultipartUpload, S3Error> {
    let query = uri.query().unwrap_or("");
    let id = query::param(query, "uploadId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| S3Error::invalid_argument("uploadId is missing"))?;
    service
        .bucket()
        .resume_multipart_upload(key, id)
        .map_err(|e| r2_failed("resuming an upload", &e))
}

/// The request's `partNumber` (1 to 10000).
fn part_number(uri: &Uri) -> Result<u16, S3Error> {
    query::param(uri.query().unwrap_or(""), "partNumber")
        .and_then(|n| n.parse::<u16>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| S3Error::invalid_argument("partNumber must be 1 to 10000"))
}

/// Handles UploadPart; the part's body streams to R2.
pub(super) async fn upload_part<B>(
    service: &R2Service,
    key: &str,
    request: Request<Either<B>>,
) -> Answer
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    let number = part_number(request.uri())?;
    let upload = upload(service, key, request.uri())?;
    let (_, data) = into_data(request).await?;
    let part = upload
        .upload_part(number, data)
        .await
        .map_err(|e| r2_failed("storing a part", &e))?;
    let mut response = Response::new(R2Body::empty());
    response
        .headers_mut()
        .insert(header::ETAG, value(&format!("\"{}\"", part.etag()))?);
    Ok(response)
}

/// Handles UploadPartCopy from an object of this bucket (with `x-amz-copy-source-range`).
pub(super) async fn upload_part_copy(service: &R2Service, key: &str, parts: &Parts) -> Answer {
    let number = part_number(&parts.uri)?;
    let upload = upload(service, key, &parts.uri)?;
    let range = match parts
        .headers
        .get("x-amz-copy-source-range")
        .and_then(|v| v.to_str().ok())
    {
        None => None,
        Some(spec) => match copy_source_range(spec) {
            Some(range) => Some(Range::OffsetWithLength {
                offset: range.start,
                length: range.end - range.start,
            }),
            None => {
                return Err(S3Error::invalid_argument(format!(
                    "x-amz-copy-source-range {spec:?} must be bytes=first-last"
                )));
            }
        },
    };
    let (_, data) = copy_source_object(service, &parts.headers, range).await?;
    let part = upload
        .upload_part(number, data)
        .await
        .map_err(|e| r2_failed("copying a part", &e))?;
    let now = rfc3339_millis(worker::Date::now().as_millis());
    Ok(xml(copy_result(
        true,
        &format!("\"{}\"", part.etag()),
        &now,
    )))
}

/// Handles CompleteMultipartUpload.
pub(super) async fn complete<B>(
    service: &R2Service,
    key: &str,
    parts: &Parts,
    body: Either<B>,
) -> Answer
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    let upload = upload(service, key, &parts.uri)?;
    let document = match body.into_full() {
        Ok(bytes) => bytes,
        Err(body) => read_limited(body, 2 << 20).await?,
    };
    let listed = parse_complete(&document)
        .map_err(|e| S3Error::new("MalformedXML", StatusCode::BAD_REQUEST, e.to_string()))?;
    if listed.is_empty() {
        return Err(S3Error::new(
            "MalformedXML",
            StatusCode::BAD_REQUEST,
            "a completion must name at least one part",
        ));
    }
    if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(S3Error::new(
            "InvalidPartOrder",
            StatusCode::BAD_REQUEST,
            "The list of parts was not in ascending order.",
        ));
    }
    let uploaded = listed
        .into_iter()
        .map(|(number, etag)| UploadedPart::new(number, etag));
    let object = upload
        .complete(uploaded)
        .await
        .map_err(|e| r2_failed("completing an upload", &e))?;
    Ok(xml(complete_upload(
        service.name(),
        key,
        &object.http_etag(),
    )))
}

/// Handles AbortMultipartUpload.
pub(super) async fn abort(service: &R2Service, key: &str, uri: &Uri) -> Answer {
    upload(service, key, uri)?
        .abort()
        .await
        .map_err(|e| r2_failed("aborting an upload", &e))?;
    let mut response = Response::new(R2Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
