//! A bucket as the commands see it: through the DeltaLayer (objects as clients see them,
//! rebuilt and checked) and as stored (the layout in the backend), both over the same
//! signed connection to the endpoint.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use deltaglider::s3::listing::{self, Object};
use deltaglider::{DeltaConfig, DeltaLayer, Either, xml};
use deltaglider_codec::{Sha256, Sha256Digest};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tower::{Layer, ServiceExt};

use crate::config;
use crate::upstream::Upstream;

/// What may stay unescaped in a query value or key path (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const PATH: &AsciiSet = &QUERY.remove(b'/');

type Body = UnsyncBoxBody<Bytes, deltaglider::BoxError>;

/// `s3://bucket/prefix`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) bucket: String,
    pub(crate) prefix: String,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{s}: give s3://BUCKET[/PREFIX]"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{s}: no bucket"));
        }
        Ok(Target {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

/// The two views of one endpoint.
pub(crate) struct Store {
    raw: Upstream,
    layer: DeltaLayer,
}

/// How a read of one object ended.
pub(crate) enum Read {
    /// Every byte arrived and every check passed: how many, and their SHA-256.
    Whole(u64, Sha256Digest),
    /// Why not.
    Failed(String),
}

/// Headers a copy keeps: what describes the object, not how it was sent.
const KEPT: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
];

impl Store {
    /// Connects to `endpoint` (nothing is sent yet).
    pub(crate) fn new(endpoint: &config::Upstream) -> Result<Self, String> {
        Ok(Self {
            raw: Upstream::new(endpoint, true)?,
            layer: DeltaLayer::new(DeltaConfig::default()),
        })
    }

    /// Every object under `target`, as clients see them (`layered`) or as stored (the
    /// savings ledger left out).
    pub(crate) async fn list(&self, target: &Target, layered: bool) -> Result<Vec<Object>, String> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = format!(
                "list-type=2&prefix={}",
                utf8_percent_encode(&target.prefix, QUERY)
            );
            if let Some(token) = &token {
                query.push_str("&continuation-token=");
                query.extend(utf8_percent_encode(token, QUERY));
            }
            let path = format!("/{}?{query}", target.bucket);
            let response = self.send(Method::GET, &path, layered).await?;
            let (status, body) = collect(response).await?;
            if !status.is_success() {
                return Err(format!(
                    "listing s3://{}: {}",
                    target.bucket,
                    failure(status, &body)
                ));
            }
            let page = listing::parse(&body).map_err(|e| format!("listing: {e}"))?;
            // The savings ledger is the layer's bookkeeping, no object of the bucket.
            objects.extend(
                page.objects
                    .into_iter()
                    .filter(|o| !o.key.starts_with(deltaglider::keys::LEDGER_PREFIX)),
            );
            token = page.next_token.filter(|_| page.truncated);
            if token.is_none() {
                return Ok(objects);
            }
        }
    }

    /// Reads `key` through the layer to its last byte, every check included (a delta's
    /// SHA-256, a whole object's recorded one); memory stays at one piece of the body.
    pub(crate) async fn read(&self, bucket: &str, key: &str) -> Result<Read, String> {
        let path = format!("/{bucket}/{}", utf8_percent_encode(key, PATH));
        let response = self.send(Method::GET, &path, true).await?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Ok(Read::Failed(failure(status, &bytes)));
        }
        let mut read = 0u64;
        let mut sha256 = Sha256::new();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Some(data) = frame.data_ref() {
                        read += data.len() as u64;
                        sha256.update(data);
                    }
                }
                Err(e) => {
                    return Ok(Read::Failed(format!(
                        "the body broke off after {read} bytes: {e}"
                    )));
                }
            }
        }
        Ok(Read::Whole(read, sha256.finish()))
    }

    /// The bytes of `key` through the layer (every check included), held in memory.
    pub(crate) async fn fetch(&self, bucket: &str, key: &str) -> Result<Bytes, String> {
        let path = format!("/{bucket}/{}", utf8_percent_encode(key, PATH));
        let response = self.send(Method::GET, &path, true).await?;
        let (status, bytes) = collect(response).await?;
        if !status.is_success() {
            return Err(format!(
                "reading s3://{bucket}/{key}: {}",
                failure(status, &bytes)
            ));
        }
        Ok(bytes)
    }

    /// The headers of `key` as stored (its metadata among them); `None` when it does not
    /// exist.
    pub(crate) async fn raw_headers(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<http::HeaderMap>, String> {
        let path = format!("/{bucket}/{}", utf8_percent_encode(key, PATH));
        let response = self.send(Method::HEAD, &path, false).await?;
        match response.status() {
            s if s.is_success() => Ok(Some(response.into_parts().0.headers)),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(format!("HEAD s3://{bucket}/{key}: {}", s.as_u16())),
        }
    }

    /// Deletes `key` as stored (not through the layer).
    pub(crate) async fn delete_raw(&self, bucket: &str, key: &str) -> Result<(), String> {
        let path = format!("/{bucket}/{}", utf8_percent_encode(key, PATH));
        let response = self.send(Method::DELETE, &path, false).await?;
        let (status, body) = collect(response).await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(failure(status, &body))
    }

    /// The multipart uploads in progress under `target`: key, upload ID and when each was
    /// initiated (RFC 3339); `None` when the backend cannot list them (`NotImplemented`).
    pub(crate) async fn uploads(
        &self,
        target: &Target,
    ) -> Result<Option<Vec<(String, String, String)>>, String> {
        let mut uploads = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut path = format!(
                "/{}?uploads&prefix={}",
                target.bucket,
                utf8_percent_encode(&target.prefix, QUERY)
            );
            if let Some((key, id)) = &markers {
                path.push_str(&format!(
                    "&key-marker={}&upload-id-marker={}",
                    utf8_percent_encode(key, QUERY),
                    utf8_percent_encode(id, QUERY)
                ));
            }
            let (status, body) = collect(self.send(Method::GET, &path, false).await?).await?;
            if status == StatusCode::NOT_IMPLEMENTED {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("listing uploads: {}", failure(status, &body)));
            }
            let elements = xml::elements(&body).map_err(|e| format!("listing uploads: {e}"))?;
            let root = "ListMultipartUploadsResult";
            let (mut next, mut truncated) = ((None, None), false);
            let mut current: [Option<String>; 3] = [None, None, None];
            for e in elements {
                match e.path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                    [r, "Upload", field] if r == root => {
                        let slot = ["Key", "UploadId", "Initiated"]
                            .iter()
                            .position(|f| *f == field);
                        if let Some(slot) = slot {
                            current[slot] = Some(e.text);
                        }
                    }
                    [r, "Upload"] if r == root => {
                        if let [Some(key), Some(id), Some(at)] = std::mem::take(&mut current) {
                            uploads.push((key, id, at));
                        }
                    }
                    [r, "IsTruncated"] if r == root => truncated = e.text == "true",
                    [r, "NextKeyMarker"] if r == root => next.0 = Some(e.text),
                    [r, "NextUploadIdMarker"] if r == root => next.1 = Some(e.text),
                    _ => {}
                }
            }
            match next {
                (Some(key), Some(id)) if truncated => markers = Some((key, id)),
                _ => return Ok(Some(uploads)),
            }
        }
    }

    /// Aborts upload `id` of `key`, as stored.
    pub(crate) async fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
    ) -> Result<(), String> {
        let path = format!(
            "/{bucket}/{}?uploadId={}",
            utf8_percent_encode(key, PATH),
            utf8_percent_encode(id, QUERY)
        );
        let (status, body) = collect(self.send(Method::DELETE, &path, false).await?).await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(failure(status, &body))
    }

    /// Whether `key` is stored as a delta (its `.delta` object exists in the backend).
    pub(crate) async fn is_delta(&self, bucket: &str, key: &str) -> Result<bool, String> {
        let stored = format!("{key}{}", deltaglider::keys::DELTA_SUFFIX);
        let path = format!("/{bucket}/{}", utf8_percent_encode(&stored, PATH));
        let status = self.send(Method::HEAD, &path, false).await?.status();
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(format!("HEAD s3://{bucket}/{stored}: {}", s.as_u16())),
        }
    }

    /// The size and ETag of `key` through the layer; `None` when it does not exist.
    pub(crate) async fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(u64, String)>, String> {
        let path = format!("/{bucket}/{}", utf8_percent_encode(key, PATH));
        let response = self.send(Method::HEAD, &path, true).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("HEAD s3://{bucket}/{key}: {}", status.as_u16()));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let size = header(http::header::CONTENT_LENGTH)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Some((size, header(http::header::ETAG).unwrap_or_default())))
    }

    /// Copies `from` (bucket, key) of `source` to `to` here, through the layer, streaming: the source is
    /// read (rebuilt if stored as a delta) while it is written (stored as the layer
    /// decides), with its content type, user metadata and the like. Returns the bytes
    /// copied and their SHA-256.
    pub(crate) async fn copy(
        &self,
        source: &Store,
        from: (&str, &str),
        to: (&str, &str),
    ) -> Result<(u64, Sha256Digest), String> {
        let path = format!("/{}/{}", from.0, utf8_percent_encode(from.1, PATH));
        let response = source.send(Method::GET, &path, true).await?;
        let (parts, body) = response.into_parts();
        if !parts.status.is_success() {
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Err(format!("reading: {}", failure(parts.status, &bytes)));
        }
        let mut put = Request::builder()
            .method(Method::PUT)
            .uri(format!("/{}/{}", to.0, utf8_percent_encode(to.1, PATH)))
            .header(http::header::HOST, "deltaglider");
        for (name, value) in &parts.headers {
            let name_str = name.as_str();
            let user =
                name_str.starts_with("x-amz-meta-") && !name_str.starts_with("x-amz-meta-dg-");
            if user || KEPT.contains(&name_str) || name == http::header::CONTENT_LENGTH {
                put = put.header(name, value);
            }
        }
        let hashed = Arc::new(Mutex::new((Sha256::new(), 0u64)));
        let tap = Arc::clone(&hashed);
        let body: Body = body
            .map_frame(move |frame| {
                if let (Some(data), Ok(mut tap)) = (frame.data_ref(), tap.lock()) {
                    tap.0.update(data);
                    tap.1 += data.len() as u64;
                }
                frame
            })
            .map_err(|e| -> deltaglider::BoxError { e.to_string().into() })
            .boxed_unsync();
        let request = put.body(body).map_err(|e| e.to_string())?;
        let answer = self.layer.layer(self.raw.clone()).oneshot(request).await;
        let answer = answer.map_err(|e| format!("writing: {e:?}"))?;
        let (status, bytes) = collect(answer).await?;
        if !status.is_success() {
            return Err(format!("writing: {}", failure(status, &bytes)));
        }
        let (sha256, len) = std::mem::take(&mut *hashed.lock().map_err(|e| e.to_string())?);
        Ok((len, sha256.finish()))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        layered: bool,
    ) -> Result<Response<Either<Either<Incoming>>>, String> {
        let empty: Body = Empty::new().map_err(|never| match never {}).boxed_unsync();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "deltaglider")
            .body(empty)
            .map_err(|e| e.to_string())?;
        let response = if layered {
            self.layer.layer(self.raw.clone()).oneshot(request).await
        } else {
            let answer = self.raw.clone().oneshot(request).await;
            answer.map(|r| r.map(Either::passthrough))
        };
        response.map_err(|e| format!("{path}: {e:?}"))
    }
}

async fn collect<B>(response: Response<B>) -> Result<(StatusCode, Bytes), String>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok((status, body.to_bytes()))
}

/// An S3 error answer as one line: its status, code and message.
fn failure(status: StatusCode, body: &[u8]) -> String {
    let message = xml::elements(body)
        .ok()
        .and_then(|elements| {
            elements
                .into_iter()
                .find(|e| e.is(&["Error", "Message"]))
                .map(|e| e.text)
        })
        .unwrap_or_default();
    let code = xml::error_code(body).unwrap_or_else(|| status.to_string());
    if message.is_empty() {
        format!("{} {code}", status.as_u16())
    } else {
        format!("{} {code}: {message}", status.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t: Target = "s3://b/p/q/".parse().expect("target");
        assert_eq!((t.bucket.as_str(), t.prefix.as_str()), ("b", "p/q/"));
        let t: Target = "s3://b".parse().expect("bucket");
        assert_eq!(t.prefix, "");
        assert!("b/p".parse::<Target>().is_err());
        assert!("s3:///p".parse::<Target>().is_err());
    }
}
