//! A multipart upload to the backend, as the large-object path writes them: created with
//! the stored object's headers, filled part by part — bytes, or server-side copies of
//! ranges of another object — then completed (conditionally when asked) or aborted.

use std::ops::Range;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};

use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, object_path, pass_error};
use crate::s3::error::S3Error;
use crate::s3::query::query_value;
use crate::s3::xml::{self, Completion};

/// An upload in progress: its key, ID, and the parts written so far.
#[derive(Clone)]
pub(super) struct Upload {
    key: String,
    id: String,
    /// `<Part>` elements of the completion, in order.
    parts: String,
    next: u32,
}

impl Upload {
    /// Starts an upload to `key` whose object will carry `headers` (content type,
    /// metadata…).
    pub(super) async fn create<T: Backend>(
        call: Call<'_, T>,
        key: &str,
        headers: HeaderMap,
    ) -> Result<Self, Stopped<T>> {
        let Call { inner, bucket, .. } = call;
        let mut request = inner.request(Method::POST, bucket, key, "uploads");
        if let Some(to) = request.headers_mut() {
            to.extend(headers);
        }
        let created = ok(inner.fetch(request, Bytes::new(), 64 << 10).await?)?;
        let id = text_of(
            &created.body,
            &["InitiateMultipartUploadResult", "UploadId"],
        )
        .ok_or_else(|| S3Error::internal("the backend's multipart upload has no UploadId"))?;
        Ok(Self {
            key: key.to_owned(),
            id,
            parts: String::new(),
            next: 1,
        })
    }

    /// The query naming the next part.
    fn part_query(&self) -> String {
        format!(
            "partNumber={}&uploadId={}",
            self.next,
            query_value(&self.id)
        )
    }

    /// Records the part just written, with its ETag.
    fn add(&mut self, etag: &str) {
        self.parts.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            self.next,
            xml::escape(etag)
        ));
        self.next += 1;
    }

    /// Writes `bytes` as the next part.
    pub(super) async fn put<T: Backend>(
        &mut self,
        call: Call<'_, T>,
        bytes: Bytes,
    ) -> Result<(), Stopped<T>> {
        let Call { inner, bucket, .. } = call;
        let request = inner.request(Method::PUT, bucket, &self.key, &self.part_query());
        let written = ok(inner.fetch(request, bytes, 64 << 10).await?)?;
        let etag = written
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| S3Error::internal("the backend's part upload has no ETag"))?
            .to_owned();
        self.add(&etag);
        Ok(())
    }

    /// Copies `range` of `source` (in the same bucket), pinned to its ETag `if_match`, as
    /// the next part.
    pub(super) async fn copy<T: Backend>(
        &mut self,
        call: Call<'_, T>,
        source: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<(), Stopped<T>> {
        let Call { inner, bucket, .. } = call;
        let request = inner
            .request(Method::PUT, bucket, &self.key, &self.part_query())
            .header("x-amz-copy-source", object_path(bucket, source))
            .header(
                "x-amz-copy-source-range",
                format!("bytes={}-{}", range.start, range.end - 1),
            )
            .header("x-amz-copy-source-if-match", if_match);
        let copied = ok(inner.fetch(request, Bytes::new(), 64 << 10).await?)?;
        let etag = text_of(&copied.body, &["CopyPartResult", "ETag"])
            .ok_or_else(|| S3Error::internal("the backend's part copy has no ETag"))?;
        self.add(&etag);
        Ok(())
    }

    /// Completes the upload — only if no object exists under its key, when `if_absent`:
    /// `Ok(false)` then (the upload stays open; abort it).
    pub(super) async fn complete<T: Backend>(
        &self,
        call: Call<'_, T>,
        if_absent: bool,
    ) -> Result<bool, Stopped<T>> {
        let Call { inner, bucket, .. } = call;
        let completion = format!(
            "<CompleteMultipartUpload>{}</CompleteMultipartUpload>",
            self.parts
        );
        let mut request = inner
            .request(
                Method::POST,
                bucket,
                &self.key,
                &format!("uploadId={}", query_value(&self.id)),
            )
            .header("content-type", "application/xml");
        if if_absent {
            request = request.header("if-none-match", "*");
        }
        let completed = inner
            .fetch(request, Bytes::from(completion), 1 << 20)
            .await?;
        let exists =
            |code: &str| code == "PreconditionFailed" || code == "ConditionalRequestConflict";
        match completed.status {
            StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT if if_absent => Ok(false),
            s if !s.is_success() => Err(pass_error(completed)),
            // S3 may answer 200 and report the failure in the body.
            _ => match xml::parse_completion(&completed.body) {
                Ok(Completion::Completed { .. }) => Ok(true),
                Ok(Completion::Failed { code }) if if_absent && exists(&code) => Ok(false),
                Ok(Completion::Failed { code }) => Err(S3Error::internal(format!(
                    "completing the upload of {} failed: {code}",
                    self.key
                ))
                .into()),
                Err(e) => Err(S3Error::internal(e.to_string()).into()),
            },
        }
    }

    /// Aborts the upload (its parts removed); a failure is only logged.
    pub(super) async fn abort<T: Backend>(&self, call: Call<'_, T>) {
        let Call { inner, bucket, .. } = call;
        let request = inner.request(
            Method::DELETE,
            bucket,
            &self.key,
            &format!("uploadId={}", query_value(&self.id)),
        );
        let aborted = inner.fetch(request, Bytes::new(), 64 << 10).await;
        if !aborted.is_ok_and(|a| a.status.is_success() || a.status == StatusCode::NOT_FOUND) {
            tracing::warn!(
                bucket,
                key = self.key,
                upload = self.id,
                "aborting a backend upload failed"
            );
        }
    }
}

/// The backend's answer when it is a success; its error passed on otherwise.
fn ok<E, RB>(fetched: Fetched) -> Result<Fetched, crate::inner::Stop<E, RB>> {
    if fetched.status.is_success() {
        Ok(fetched)
    } else {
        Err(pass_error(fetched))
    }
}

/// The text of the element at `path` in an XML answer.
fn text_of(body: &[u8], path: &[&str]) -> Option<String> {
    xml::elements(body)
        .ok()?
        .into_iter()
        .find(|e| e.is(path))
        .map(|e| e.text)
}
