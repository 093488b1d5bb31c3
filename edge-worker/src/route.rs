//! Which S3 call a request to the R2 service is, and the bucket mapping.
//!
//! Object calls are classified by the middleware's own [`S3Op::from_request`]; this module
//! adds the bucket-level calls that the layer forwards untouched.

use deltaglider::{S3Op, S3OpKind};
use http::{Method, request::Parts};

/// An S3 call the R2 service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `GET /`.
    ListBuckets,
    /// `PUT /bucket`.
    CreateBucket,
    /// `HEAD /bucket`.
    HeadBucket,
    /// `DELETE /bucket`.
    DeleteBucket,
    /// `GET /bucket?location`.
    GetBucketLocation,
    /// `GET /bucket?uploads`.
    ListMultipartUploads,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `POST /bucket?delete`.
    DeleteObjects,
    /// `GET /bucket/key`.
    GetObject,
    /// `HEAD /bucket/key`.
    HeadObject,
    /// `PUT /bucket/key`.
    PutObject,
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject,
    /// `DELETE /bucket/key`.
    DeleteObject,
    /// `POST /bucket/key?uploads`.
    CreateMultipartUpload,
    /// `PUT /bucket/key?partNumber&uploadId`.
    UploadPart,
    /// `PUT /bucket/key?partNumber&uploadId` with `x-amz-copy-source`.
    UploadPartCopy,
    /// `POST /bucket/key?uploadId`.
    CompleteMultipartUpload,
    /// `DELETE /bucket/key?uploadId`.
    AbortMultipartUpload,
    /// `GET /bucket/key?uploadId`.
    ListParts,
    /// Anything else: answered with `NotImplemented`.
    Unsupported,
}

/// A classified request: the call, the bucket and the key (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// What the request asks.
    pub call: Call,
    /// The bucket named by the path, if any.
    pub bucket: Option<String>,
    /// The object key, empty for bucket calls.
    pub key: String,
}

impl Routed {
    /// Classifies a path-style request.
    pub fn from_parts(parts: &Parts) -> Self {
        let op = S3Op::from_request(parts);
        let query = parts.uri.query().unwrap_or("");
        let copy = parts.headers.contains_key("x-amz-copy-source");
        let call = match op.kind {
            S3OpKind::GetObject => Call::GetObject,
            S3OpKind::HeadObject => Call::HeadObject,
            S3OpKind::PutObject => Call::PutObject,
            S3OpKind::CopyObject => Call::CopyObject,
            S3OpKind::DeleteObject => Call::DeleteObject,
            S3OpKind::DeleteObjects => Call::DeleteObjects,
            S3OpKind::ListObjectsV2 => Call::ListObjectsV2,
            // The layer answers version-1 listings from version-2 ones: never sent here.
            S3OpKind::ListObjects => Call::Unsupported,
            S3OpKind::CreateMultipartUpload => Call::CreateMultipartUpload,
            S3OpKind::UploadPart if copy => Call::UploadPartCopy,
            S3OpKind::UploadPart => Call::UploadPart,
            S3OpKind::CompleteMultipartUpload => Call::CompleteMultipartUpload,
            S3OpKind::AbortMultipartUpload => Call::AbortMultipartUpload,
            S3OpKind::ListParts => Call::ListParts,
            _ => bucket_call(&parts.method, &op, query),
        };
        Self {
            call,
            bucket: op.bucket,
            key: op.key.unwrap_or_default(),
        }
    }
}

fn bucket_call(method: &Method, op: &S3Op, query: &str) -> Call {
    if op.key.is_some() {
        return Call::Unsupported;
    }
    let names: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or(""))
        .collect();
    let only = |name: &str| names.iter().all(|n| *n == name || *n == "x-id");
    match (op.bucket.is_some(), method.as_str()) {
        (false, "GET") => Call::ListBuckets,
        (true, "PUT") if names.is_empty() => Call::CreateBucket,
        (true, "HEAD") => Call::HeadBucket,
        (true, "DELETE") if names.is_empty() => Call::DeleteBucket,
        (true, "GET") if names.contains(&"location") && only("location") => Call::GetBucketLocation,
        (true, "GET") if names.contains(&"uploads") => Call::ListMultipartUploads,
        _ => Call::Unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, uri: &str, copy: bool) -> Routed {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if copy {
            builder = builder.header("x-amz-copy-source", "b/src");
        }
        let (parts, ()) = builder.body(()).expect("request").into_parts();
        Routed::from_parts(&parts)
    }

    #[test]
    fn table() {
        use Call::*;
        let cases: &[(&str, &str, bool, Call)] = &[
            ("GET", "/", false, ListBuckets),
            ("PUT", "/b", false, CreateBucket),
            ("HEAD", "/b", false, HeadBucket),
            ("DELETE", "/b", false, DeleteBucket),
            ("GET", "/b?location", false, GetBucketLocation),
            ("GET", "/b?uploads", false, ListMultipartUploads),
            ("GET", "/b?versioning", false, Unsupported),
            ("PUT", "/b?acl", false, Unsupported),
            ("GET", "/b?list-type=2&prefix=a", false, ListObjectsV2),
            ("GET", "/b?prefix=a", false, Unsupported),
            ("POST", "/b?delete", false, DeleteObjects),
            ("GET", "/b/k", false, GetObject),
            ("HEAD", "/b/k", false, HeadObject),
            ("PUT", "/b/k", false, PutObject),
            ("PUT", "/b/k", true, CopyObject),
            ("DELETE", "/b/k", false, DeleteObject),
            ("POST", "/b/k?uploads", false, CreateMultipartUpload),
            ("PUT", "/b/k?partNumber=2&uploadId=u", false, UploadPart),
            ("PUT", "/b/k?partNumber=2&uploadId=u", true, UploadPartCopy),
            ("POST", "/b/k?uploadId=u", false, CompleteMultipartUpload),
            ("DELETE", "/b/k?uploadId=u", false, AbortMultipartUpload),
            ("GET", "/b/k?uploadId=u", false, ListParts),
            ("GET", "/b/k?tagging", false, Unsupported),
            ("POST", "/", false, Unsupported),
        ];
        for (method, uri, copy, call) in cases {
            assert_eq!(route(method, uri, *copy).call, *call, "{method} {uri}");
        }
    }

    #[test]
    fn bucket_and_key_are_decoded() {
        let routed = route("GET", "/my-bucket/dir/a%20b%2Bc.zip", false);
        assert_eq!(routed.bucket.as_deref(), Some("my-bucket"));
        assert_eq!(routed.key, "dir/a b+c.zip");
    }
}
