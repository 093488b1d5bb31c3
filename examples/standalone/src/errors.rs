//! Every answer carries a request id, and every error document what S3's carry: `Code`,
//! `Message`, `BucketName` or `Key` where S3 names them, and `RequestId`.
//!
//! Backends do not always: `s3s` writes `<Error><Code>InvalidBucketName</Code></Error>`,
//! which aws-cli reports as "InvalidBucketName … Unknown". Errors are small, so an error
//! body is read here, completed and written again; every other body passes untouched.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use deltaglider::sigv4::Refusal;
use deltaglider::{BoxError, Either, S3Op};
use http::{HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Limited};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use tower::{Layer, Service};

/// The largest error document read and completed; larger ones pass as they are.
const MAX_ERROR_BYTES: usize = 64 << 10;

/// S3's message for each error code a backend may leave without one.
const MESSAGES: &[(&str, &str)] = &[
    ("AccessDenied", "Access Denied"),
    (
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    ),
    (
        "BucketAlreadyExists",
        "The requested bucket name is not available.",
    ),
    (
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
    ),
    (
        "BucketNotEmpty",
        "The bucket you tried to delete is not empty",
    ),
    (
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed object size.",
    ),
    (
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed object size.",
    ),
    (
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    ),
    (
        "InternalError",
        "We encountered an internal error. Please try again.",
    ),
    ("InvalidArgument", "Invalid Argument"),
    ("InvalidBucketName", "The specified bucket is not valid."),
    (
        "InvalidDigest",
        "The Content-MD5 you specified is not valid.",
    ),
    (
        "InvalidPart",
        "One or more of the specified parts could not be found.",
    ),
    (
        "InvalidPartOrder",
        "The list of parts was not in ascending order.",
    ),
    ("InvalidRange", "The requested range is not satisfiable"),
    ("InvalidRequest", "Invalid Request"),
    ("KeyTooLongError", "Your key is too long"),
    (
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.",
    ),
    (
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    ),
    (
        "MissingContentLength",
        "You must provide the Content-Length HTTP header.",
    ),
    ("NoSuchBucket", "The specified bucket does not exist"),
    ("NoSuchKey", "The specified key does not exist."),
    (
        "NoSuchUpload",
        "The specified multipart upload does not exist.",
    ),
    (
        "NotImplemented",
        "A header you provided implies functionality that is not implemented.",
    ),
    (
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    ),
    (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    ),
    ("SlowDown", "Please reduce your request rate."),
    (
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
];

/// Codes whose documents name the bucket (`BucketName`) in S3.
const BUCKET_CODES: &[&str] = &[
    "NoSuchBucket",
    "BucketNotEmpty",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "InvalidBucketName",
];

/// Adds request ids and completes error documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompleteErrorsLayer;

impl<S> Layer<S> for CompleteErrorsLayer {
    type Service = CompleteErrors<S>;

    fn layer(&self, inner: S) -> CompleteErrors<S> {
        CompleteErrors { inner }
    }
}

/// See [`CompleteErrorsLayer`].
#[derive(Debug, Clone)]
pub(crate) struct CompleteErrors<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A request id unique within this process and unlikely to repeat across restarts.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:016X}",
        started.rotate_left(20) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    )
}

impl<S, B, RB> Service<Request<B>> for CompleteErrors<S>
where
    S: Service<Request<B>, Response = Response<Either<RB>>> + Send + 'static,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<Either<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (bucket, key) = names(request.uri());
        let (parts, body) = request.into_parts();
        let answered = Answered {
            method: parts.method.clone(),
            op: S3Op::from_request(&parts).kind.name(),
            bucket,
            key,
        };
        let call = self.inner.call(Request::from_parts(parts, body));
        Box::pin(async move {
            let mut response = call.await?;
            // The backend's id when it gave one (a forwarded answer), else a new one.
            let id = match response.headers().get("x-amz-request-id") {
                Some(value) => value.to_str().map_or_else(|_| request_id(), str::to_owned),
                None => request_id(),
            };
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert("x-amz-request-id", value);
            }
            let status = response.status();
            if !status.is_client_error() && !status.is_server_error() {
                return Ok(response);
            }
            // A refused signature is logged already, by the SigV4 layer.
            let logged = response.extensions().get::<Refusal>().is_some();
            let is_xml = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.contains("xml"));
            if !is_xml {
                if !logged {
                    answered.log(status, None);
                }
                return Ok(response);
            }
            let (response, code) = complete_body(response, id, &answered).await;
            if !logged {
                answered.log(response.status(), code.as_deref());
            }
            Ok(response)
        })
    }
}

/// What the log line of an error answer tells of its request: never the key, nor anything
/// of the body or the credentials.
struct Answered {
    method: http::Method,
    op: &'static str,
    bucket: Option<String>,
    /// For the error document only (S3's `Key`), not logged.
    key: Option<String>,
}

impl Answered {
    /// One line per error answer: a client's mistake (4xx) at INFO, a failure (5xx) at WARN
    /// (its cause is logged where it happened).
    fn log(&self, status: http::StatusCode, code: Option<&str>) {
        let bucket = self.bucket.as_deref();
        if status.is_server_error() {
            tracing::warn!(
                method = %self.method,
                op = self.op,
                status = status.as_u16(),
                code,
                bucket,
                "request failed"
            );
        } else {
            tracing::info!(
                method = %self.method,
                op = self.op,
                status = status.as_u16(),
                code,
                bucket,
                "request refused"
            );
        }
    }
}

/// The error answer `response` with its document completed, and its `Code`.
async fn complete_body<RB>(
    response: Response<Either<RB>>,
    id: String,
    answered: &Answered,
) -> (Response<Either<RB>>, Option<String>)
where
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    let (mut parts, body) = response.into_parts();
    let read = Limited::new(body, MAX_ERROR_BYTES).collect().await;
    let bytes = match read {
        Ok(collected) => collected.to_bytes(),
        // Too large or broken: not an error document this layer can complete.
        Err(e) => {
            tracing::debug!(error = %e, "error body not completed");
            let error = deltaglider::S3Error::internal("the backend's error could not be read");
            let code = Some(error.code().to_owned());
            return (error.to_response().map(Either::full), code);
        }
    };
    let fields = read_error(&bytes);
    let field = |name: &str| {
        fields
            .iter()
            .flatten()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    // The id in the document and in the header are one: the document's, if it has one.
    let id = field("RequestId").unwrap_or(id);
    if let Ok(value) = HeaderValue::from_str(&id) {
        parts.headers.insert("x-amz-request-id", value);
    }
    let (bucket, key) = (answered.bucket.as_deref(), answered.key.as_deref());
    let completed = complete(&bytes, &id, bucket, key);
    let body = completed.map_or(bytes, Bytes::from);
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Ok(length) = HeaderValue::from_str(&body.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, length);
    }
    (
        Response::from_parts(parts, Either::full(body)),
        field("Code"),
    )
}

/// The bucket and key of a path-style request.
fn names(uri: &http::Uri) -> (Option<String>, Option<String>) {
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
    let mut split = path.trim_start_matches('/').splitn(2, '/');
    let bucket = split.next().filter(|b| !b.is_empty()).map(str::to_owned);
    let key = split.next().filter(|k| !k.is_empty()).map(str::to_owned);
    (bucket, key)
}

/// The error document `xml` with what it lacks added; `None` when it is not one (or
/// lacks nothing).
fn complete(xml: &[u8], id: &str, bucket: Option<&str>, key: Option<&str>) -> Option<Vec<u8>> {
    let fields = read_error(xml)?;
    let has = |name: &str| fields.iter().any(|(n, _)| n == name);
    let code = fields.iter().find(|(n, _)| n == "Code")?.1.clone();
    let mut added: Vec<(String, String)> = Vec::new();
    if !has("Message") || fields.iter().any(|(n, v)| n == "Message" && v.is_empty()) {
        let message = MESSAGES.iter().find(|(c, _)| *c == code).map_or_else(
            || format!("The request failed with {code}."),
            |(_, m)| (*m).to_owned(),
        );
        added.push(("Message".into(), message));
    }
    if let Some(bucket) =
        bucket.filter(|_| BUCKET_CODES.contains(&code.as_str()) && !has("BucketName"))
    {
        added.push(("BucketName".into(), bucket.to_owned()));
    }
    if let Some(key) = key.filter(|_| code == "NoSuchKey" && !has("Key")) {
        added.push(("Key".into(), key.to_owned()));
    }
    if !has("RequestId") {
        added.push(("RequestId".into(), id.to_owned()));
    }
    if added.is_empty() {
        return None;
    }
    let mut all: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(n, v)| !(n == "Message" && v.is_empty()))
        .collect();
    // Code first, then Message, as S3 writes them.
    let at = all
        .iter()
        .position(|(n, _)| n == "Code")
        .map_or(0, |i| i + 1);
    for (i, field) in added.into_iter().enumerate() {
        if field.0 == "Message" {
            all.insert(at + i, field);
        } else {
            all.push(field);
        }
    }
    let mut writer = Writer::new(Vec::new());
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .ok()?;
    writer
        .create_element("Error")
        .write_inner_content(|w| {
            for (name, text) in &all {
                w.create_element(name.as_str())
                    .write_text_content(BytesText::new(text))?;
            }
            Ok::<_, std::io::Error>(())
        })
        .ok()?;
    Some(writer.into_inner())
}

/// The text children of an `<Error>` document, in order; `None` when it is not one.
fn read_error(xml: &[u8]) -> Option<Vec<(String, String)>> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut depth = 0;
    let mut fields = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).ok()? {
            Event::Start(start) => {
                depth += 1;
                let name = String::from_utf8(start.local_name().as_ref().to_vec()).ok()?;
                if depth == 1 && name != "Error" {
                    return None;
                }
                if depth == 2 {
                    current = Some((name, String::new()));
                }
            }
            Event::Empty(empty) if depth == 1 => {
                let name = String::from_utf8(empty.local_name().as_ref().to_vec()).ok()?;
                fields.push((name, String::new()));
            }
            Event::Text(text) if depth == 2 => {
                if let Some((_, value)) = &mut current {
                    value.push_str(&text.unescape().ok()?);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    fields.push(current.take()?);
                }
                depth -= 1;
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    (!fields.is_empty()).then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.expect("completed")).expect("utf-8")
    }

    #[test]
    fn adds_what_s3_sends() {
        let bare = br#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidBucketName</Code></Error>"#;
        let done = text(complete(bare, "ID1", Some("A_B"), None));
        assert!(
            done.contains("<Code>InvalidBucketName</Code><Message>The specified bucket is not valid.</Message>"),
            "{done}"
        );
        assert!(done.contains("<BucketName>A_B</BucketName>"), "{done}");
        assert!(
            done.ends_with("<RequestId>ID1</RequestId></Error>"),
            "{done}"
        );
        let no_key = text(complete(
            b"<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>",
            "ID2",
            Some("b"),
            Some("a&b"),
        ));
        assert!(
            no_key.contains("<Message>gone</Message><Key>a&amp;b</Key>"),
            "{no_key}"
        );
        let odd = text(complete(
            b"<Error><Code>Weird</Code><Message/></Error>",
            "ID3",
            None,
            None,
        ));
        assert!(
            odd.contains("<Message>The request failed with Weird.</Message>"),
            "{odd}"
        );
        // Complete documents and other documents are left alone.
        assert!(
            complete(
                b"<Error><Code>X</Code><Message>m</Message><RequestId>r</RequestId></Error>",
                "ID",
                None,
                None
            )
            .is_none()
        );
        assert!(complete(b"<ListBucketResult/>", "ID", None, None).is_none());
        assert!(complete(b"not xml <", "ID", None, None).is_none());
    }
}
