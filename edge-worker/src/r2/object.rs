//! GetObject, HeadObject, PutObject, CopyObject and DeleteObject over R2.

use std::collections::HashMap;

use bytes::Bytes;
use deltaglider::s3::conditions::precondition;
use deltaglider::s3::range::{self, Wanted};
use deltaglider::s3::time::{http_date, rfc3339_millis};
use deltaglider::s3::{content_md5, copy_source};
use deltaglider::{BoxError, Either, S3Error};
use http::{HeaderMap, HeaderName, Request, Response, StatusCode, header};
use http_body::Body;
use worker::{Conditional, Data, DateInit, HttpMetadata, Object, Range};

use super::binding::R2Service;
use super::reply::{Answer, instant, no_such_bucket, value, xml};
use crate::body::{R2Body, into_data, r2_failed};
use crate::metadata::{HttpMeta, object_metadata};

/// The headers S3 sends with an object: ETag, Last-Modified, its HTTP metadata and the
/// custom metadata as `x-amz-meta-*`.
pub(super) fn object_headers(object: &Object, headers: &mut HeaderMap) -> Result<(), S3Error> {
    headers.insert(header::ETAG, value(&object.http_etag())?);
    headers.insert(
        header::LAST_MODIFIED,
        value(&http_date(instant(&object.uploaded())))?,
    );
    headers.insert(header::ACCEPT_RANGES, value("bytes")?);
    let http = object.http_metadata();
    let content_type = http
        .content_type
        .as_deref()
        .unwrap_or("binary/octet-stream");
    headers.insert(header::CONTENT_TYPE, value(content_type)?);
    let optional = [
        (header::CONTENT_LANGUAGE, http.content_language),
        (header::CONTENT_DISPOSITION, http.content_disposition),
        (header::CONTENT_ENCODING, http.content_encoding),
        (header::CACHE_CONTROL, http.cache_control),
        (
            header::EXPIRES,
            http.cache_expiry.map(|d| http_date(instant(&d))),
        ),
    ];
    for (name, text) in optional {
        if let Some(text) = text {
            headers.insert(name, value(&text)?);
        }
    }
    let custom = object
        .custom_metadata()
        .map_err(|e| r2_failed("reading metadata", &e))?;
    for (name, text) in custom {
        // Names R2 would keep but HTTP cannot carry are skipped, as S3 never stores them.
        if let (Ok(name), Ok(text)) = (
            HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes()),
            http::HeaderValue::from_str(&text),
        ) {
            headers.insert(name, text);
        }
    }
    Ok(())
}

/// R2's form of the HTTP metadata.
pub(super) fn http_metadata(meta: HttpMeta) -> HttpMetadata {
    HttpMetadata {
        content_type: meta.content_type,
        content_language: meta.content_language,
        content_disposition: meta.content_disposition,
        content_encoding: meta.content_encoding,
        cache_control: meta.cache_control,
        cache_expiry: meta.expires_ms.map(|ms| DateInit::Millis(ms).into()),
    }
}

/// The client's metadata of a request, in R2's form.
pub(super) fn request_metadata(headers: &HeaderMap) -> (HttpMetadata, HashMap<String, String>) {
    let (http, custom) = object_metadata(headers);
    (http_metadata(http), custom.into_iter().collect())
}

fn no_such_key(key: &str) -> S3Error {
    S3Error::no_such_key(key)
}

/// Handles GetObject: one range (the size is read first to resolve it, as S3 does for
/// suffixes and open ends) and the conditional headers.
pub(super) async fn get(service: &R2Service, key: &str, headers: &HeaderMap) -> Answer {
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(spec) => {
            let head = service
                .bucket()
                .head(key)
                .await
                .map_err(|e| r2_failed("reading an object", &e))?
                .ok_or_else(|| no_such_key(key))?;
            match range::parse(Some(spec), head.size()) {
                Wanted::All => None,
                Wanted::Part(part) => Some((part.start, part.end - part.start, head.size())),
                Wanted::Unsatisfiable => {
                    return Err(S3Error::new(
                        "InvalidRange",
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        "The requested range is not satisfiable",
                    ));
                }
            }
        }
    };
    let mut get = service.bucket().get(key);
    if let Some((offset, length, _)) = range {
        get = get.range(Range::OffsetWithLength { offset, length });
    }
    let object = get
        .execute()
        .await
        .map_err(|e| r2_failed("reading an object", &e))?
        .ok_or_else(|| no_such_key(key))?;
    if let Some(answer) = unmet(&object, headers)? {
        return Ok(answer);
    }
    let mut response = Response::new(R2Body::object(object.body())?);
    let out = response.headers_mut();
    object_headers(&object, out)?;
    match range {
        Some((offset, length, size)) => {
            let last = offset + length - 1;
            out.insert(
                header::CONTENT_RANGE,
                value(&format!("bytes {offset}-{last}/{size}"))?,
            );
            out.insert(header::CONTENT_LENGTH, length.into());
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        None => {
            out.insert(header::CONTENT_LENGTH, object.size().into());
        }
    }
    Ok(response)
}

/// Handles HeadObject.
pub(super) async fn head(service: &R2Service, key: &str, headers: &HeaderMap) -> Answer {
    let object = service
        .bucket()
        .head(key)
        .await
        .map_err(|e| r2_failed("reading an object", &e))?
        .ok_or_else(|| no_such_key(key))?;
    if let Some(answer) = unmet(&object, headers)? {
        return Ok(answer);
    }
    let mut response = Response::new(R2Body::empty());
    object_headers(&object, response.headers_mut())?;
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, object.size().into());
    Ok(response)
}

/// The answer to a GET or HEAD whose conditions do not hold: 304 (with the ETag) or a
/// `PreconditionFailed` error.
fn unmet(object: &Object, headers: &HeaderMap) -> Result<Option<Response<R2Body>>, S3Error> {
    let etag = object.http_etag();
    match precondition(headers, &etag, Some(instant(&object.uploaded()))) {
        None => Ok(None),
        Some(StatusCode::NOT_MODIFIED) => {
            let mut response = Response::new(R2Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response.headers_mut().insert(header::ETAG, value(&etag)?);
            Ok(Some(response))
        }
        Some(status) => Err(S3Error::new(
            "PreconditionFailed",
            status,
            "At least one of the pre-conditions you specified did not hold",
        )),
    }
}

/// R2's form of a PUT's `If-None-Match` / `If-Match` (the layer seeds references with
/// `If-None-Match: *`).
fn put_condition(headers: &HeaderMap) -> Option<Conditional> {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_matches('"').to_owned())
    };
    let (none_match, matches) = (get(header::IF_NONE_MATCH), get(header::IF_MATCH));
    (none_match.is_some() || matches.is_some()).then(|| Conditional {
        etag_does_not_match: none_match,
        etag_matches: matches,
        ..Conditional::default()
    })
}

/// Handles PutObject: HTTP and custom metadata, conditional creates.
pub(super) async fn put<B>(service: &R2Service, key: &str, request: Request<Either<B>>) -> Answer
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, data) = into_data(request).await?;
    let (http, custom) = request_metadata(&parts.headers);
    let md5 = match parts.headers.get("content-md5") {
        None => None,
        Some(text) => Some(content_md5::decode(text.as_bytes()).ok_or_else(|| {
            S3Error::new(
                "InvalidDigest",
                StatusCode::BAD_REQUEST,
                "Content-MD5 is not the base64 of 16 bytes",
            )
        })?),
    };
    let mut put = service
        .bucket()
        .put(key, data)
        .http_metadata(http)
        .custom_metadata(custom);
    // R2 checks the digest and refuses a mismatch (BadDigest).
    if let Some(md5) = md5 {
        put = put.md5(md5.to_vec());
    }
    if let Some(condition) = put_condition(&parts.headers) {
        put = put.only_if(condition);
    }
    let stored = put
        .execute()
        .await
        .map_err(|e| r2_failed("storing an object", &e))?;
    let Some(stored) = stored else {
        return Err(S3Error::new(
            "PreconditionFailed",
            StatusCode::PRECONDITION_FAILED,
            "At least one of the pre-conditions you specified did not hold",
        )
        .resource(key));
    };
    let mut response = Response::new(R2Body::empty());
    response
        .headers_mut()
        .insert(header::ETAG, value(&stored.http_etag())?);
    Ok(response)
}

/// Reads the source of a copy: the object with its body, when the bucket is ours.
pub(super) async fn copy_source_object(
    service: &R2Service,
    headers: &HeaderMap,
    range: Option<Range>,
) -> Result<(Object, Data), S3Error> {
    let source = headers
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .and_then(copy_source::parse)
        .ok_or_else(|| S3Error::invalid_argument("x-amz-copy-source must be bucket/key"))?;
    if source.0 != service.name() {
        return Err(no_such_bucket(source.0));
    }
    let mut get = service.bucket().get(&source.1);
    if let Some(range) = range {
        get = get.range(range);
    }
    let object = get
        .execute()
        .await
        .map_err(|e| r2_failed("reading a copy source", &e))?
        .ok_or_else(|| no_such_key(&source.1))?;
    let data = match object.body() {
        None => Data::Empty,
        Some(body) => match body
            .response_body()
            .map_err(|e| r2_failed("reading a copy source", &e))?
        {
            worker::ResponseBody::Empty => Data::Empty,
            worker::ResponseBody::Body(bytes) => Data::Bytes(bytes),
            worker::ResponseBody::Stream(stream) => Data::ReadableStream(stream),
        },
    };
    Ok((object, data))
}

/// Handles CopyObject within the bucket (`x-amz-metadata-directive` COPY or REPLACE).
pub(super) async fn copy(service: &R2Service, key: &str, headers: &HeaderMap) -> Answer {
    let (source, data) = copy_source_object(service, headers, None).await?;
    let replace = headers
        .get("x-amz-metadata-directive")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"REPLACE"));
    let (http, custom) = if replace {
        request_metadata(headers)
    } else {
        let custom = source
            .custom_metadata()
            .map_err(|e| r2_failed("reading metadata", &e))?;
        (source.http_metadata(), custom)
    };
    let stored = service
        .bucket()
        .put(key, data)
        .http_metadata(http)
        .custom_metadata(custom)
        .execute()
        .await
        .map_err(|e| r2_failed("storing a copy", &e))?
        .ok_or_else(|| S3Error::internal("R2 stored no copy"))?;
    Ok(xml(crate::xml::copy_result(
        false,
        &stored.http_etag(),
        &rfc3339_millis(stored.uploaded().as_millis()),
    )))
}

/// Handles DeleteObject (204 whether or not the key existed, as S3 answers).
pub(super) async fn delete(service: &R2Service, key: &str) -> Answer {
    service
        .bucket()
        .delete(key)
        .await
        .map_err(|e| r2_failed("deleting an object", &e))?;
    let mut response = Response::new(R2Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
