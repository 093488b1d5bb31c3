//! Classifies an S3 request from its method, path, query and headers.

use std::borrow::Cow;

use http::{Method, request::Parts};
use percent_encoding::percent_decode_str;

/// The S3 operations the layer distinguishes. Everything it does not need to change is
/// [`S3OpKind::Forward`]: sent to the inner service untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum S3OpKind {
    /// `PUT /bucket/key`.
    PutObject,
    /// `GET /bucket/key`.
    GetObject,
    /// `HEAD /bucket/key`.
    HeadObject,
    /// `DELETE /bucket/key`.
    DeleteObject,
    /// `POST /bucket?delete`.
    DeleteObjects,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `GET /bucket`.
    ListObjects,
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject,
    /// `POST /bucket/key?uploads`.
    CreateMultipartUpload,
    /// `PUT /bucket/key?partNumber&uploadId`, with or without a copy source.
    UploadPart,
    /// `POST /bucket/key?uploadId`.
    CompleteMultipartUpload,
    /// `DELETE /bucket/key?uploadId`.
    AbortMultipartUpload,
    /// `GET /bucket/key?uploadId`.
    ListParts,
    /// `DELETE /bucket`.
    DeleteBucket,
    /// Any other request: bucket operations, ACLs, tagging, `GET /`, …
    Forward,
}

impl S3OpKind {
    /// The operation's S3 name, e.g. `PutObject` (`Other` for forwarded requests).
    pub fn name(self) -> &'static str {
        match self {
            Self::PutObject => "PutObject",
            Self::GetObject => "GetObject",
            Self::HeadObject => "HeadObject",
            Self::DeleteObject => "DeleteObject",
            Self::DeleteObjects => "DeleteObjects",
            Self::ListObjectsV2 => "ListObjectsV2",
            Self::ListObjects => "ListObjects",
            Self::CopyObject => "CopyObject",
            Self::CreateMultipartUpload => "CreateMultipartUpload",
            Self::UploadPart => "UploadPart",
            Self::CompleteMultipartUpload => "CompleteMultipartUpload",
            Self::AbortMultipartUpload => "AbortMultipartUpload",
            Self::ListParts => "ListParts",
            Self::DeleteBucket => "DeleteBucket",
            Self::Forward => "Other",
        }
    }
}

/// A classified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Op {
    /// What it is.
    pub kind: S3OpKind,
    /// The bucket, when the path names one.
    pub bucket: Option<String>,
    /// The object key, percent-decoded, when the path names one.
    pub key: Option<String>,
}

/// Object sub-resources whose requests the layer forwards untouched.
const OBJECT_SUBRESOURCES: &[&str] = &[
    "acl",
    "tagging",
    "retention",
    "legal-hold",
    "torrent",
    "attributes",
    "restore",
    "select",
    "select-type",
];

impl S3Op {
    /// Classifies a path-style request (`/bucket/key`).
    pub fn from_request(parts: &Parts) -> Self {
        let path = parts.uri.path();
        let path = path.strip_prefix('/').unwrap_or(path);
        let (bucket, key) = match path.split_once('/') {
            Some((bucket, key)) => (bucket, Some(key)),
            None => (path, None),
        };
        let bucket = (!bucket.is_empty()).then(|| decode(bucket).into_owned());
        let key = key
            .filter(|k| !k.is_empty())
            .map(|k| decode(k).into_owned());
        let query = parts.uri.query().unwrap_or("");
        let has = |name: &str| {
            query
                .split('&')
                .any(|pair| pair.split('=').next() == Some(name))
        };
        let param = |name: &str| {
            query.split('&').find_map(|pair| {
                let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                (n == name).then_some(v)
            })
        };
        let method = &parts.method;
        let kind = match (&bucket, &key) {
            (None, _) => S3OpKind::Forward,
            (Some(_), None) => {
                if *method == Method::GET && param("list-type") == Some("2") {
                    S3OpKind::ListObjectsV2
                } else if *method == Method::POST && has("delete") {
                    S3OpKind::DeleteObjects
                } else if *method == Method::GET && is_plain_listing(query) {
                    S3OpKind::ListObjects
                } else if *method == Method::DELETE && query.is_empty() {
                    S3OpKind::DeleteBucket
                } else {
                    S3OpKind::Forward
                }
            }
            (Some(_), Some(_)) => {
                if OBJECT_SUBRESOURCES.iter().any(|s| has(s)) {
                    S3OpKind::Forward
                } else if has("uploadId") {
                    match *method {
                        Method::PUT if has("partNumber") => S3OpKind::UploadPart,
                        Method::POST => S3OpKind::CompleteMultipartUpload,
                        Method::DELETE => S3OpKind::AbortMultipartUpload,
                        Method::GET => S3OpKind::ListParts,
                        _ => S3OpKind::Forward,
                    }
                } else {
                    match *method {
                        Method::POST if has("uploads") => S3OpKind::CreateMultipartUpload,
                        Method::PUT if parts.headers.contains_key("x-amz-copy-source") => {
                            S3OpKind::CopyObject
                        }
                        Method::PUT => S3OpKind::PutObject,
                        Method::GET => S3OpKind::GetObject,
                        Method::HEAD => S3OpKind::HeadObject,
                        Method::DELETE => S3OpKind::DeleteObject,
                        _ => S3OpKind::Forward,
                    }
                }
            }
        };
        Self { kind, bucket, key }
    }
}

/// A bucket GET is ListObjects (v1) unless it asks for a bucket sub-resource.
fn is_plain_listing(query: &str) -> bool {
    const LIST_PARAMS: &[&str] = &[
        "",
        "prefix",
        "delimiter",
        "marker",
        "max-keys",
        "encoding-type",
        "x-id",
        // Ceph's extension: any order will do, and key order is one.
        "allow-unordered",
    ];
    query
        .split('&')
        .all(|pair| LIST_PARAMS.contains(&pair.split('=').next().unwrap_or("")))
}

fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(method: &str, uri: &str, copy: bool) -> S3Op {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if copy {
            builder = builder.header("x-amz-copy-source", "b/src");
        }
        let (parts, ()) = builder.body(()).expect("request").into_parts();
        S3Op::from_request(&parts)
    }

    #[test]
    fn table() {
        use S3OpKind::*;
        let cases: &[(&str, &str, bool, S3OpKind)] = &[
            ("GET", "/", false, Forward),
            ("PUT", "/b", false, Forward),
            ("GET", "/b?location", false, Forward),
            ("GET", "/b?versioning", false, Forward),
            ("GET", "/b?uploads", false, Forward),
            ("GET", "/b", false, ListObjects),
            (
                "GET",
                "/b/?prefix=a%2F&delimiter=%2F&max-keys=2",
                false,
                ListObjects,
            ),
            (
                "GET",
                "/b?list-type=2&prefix=x&continuation-token=abc",
                false,
                ListObjectsV2,
            ),
            ("POST", "/b?delete", false, DeleteObjects),
            ("PUT", "/b/k", false, PutObject),
            ("PUT", "/b/k", true, CopyObject),
            ("PUT", "/b/k?partNumber=1&uploadId=u", false, UploadPart),
            ("PUT", "/b/k?partNumber=1&uploadId=u", true, UploadPart),
            ("GET", "/b/k", false, GetObject),
            (
                "GET",
                "/b/k?response-content-type=text%2Fplain",
                false,
                GetObject,
            ),
            ("GET", "/b/k?partNumber=1", false, GetObject),
            ("HEAD", "/b/k", false, HeadObject),
            ("DELETE", "/b/k", false, DeleteObject),
            ("POST", "/b/k?uploads", false, CreateMultipartUpload),
            ("POST", "/b/k?uploadId=u", false, CompleteMultipartUpload),
            ("DELETE", "/b/k?uploadId=u", false, AbortMultipartUpload),
            ("GET", "/b/k?uploadId=u", false, ListParts),
            ("DELETE", "/b", false, DeleteBucket),
            ("DELETE", "/b?cors", false, Forward),
            ("GET", "/b/k?tagging", false, Forward),
            ("PUT", "/b/k?acl", false, Forward),
            ("GET", "/b/k?attributes", false, Forward),
            ("POST", "/b/k?restore", false, Forward),
        ];
        for (method, uri, copy, kind) in cases {
            assert_eq!(classify(method, uri, *copy).kind, *kind, "{method} {uri}");
        }
    }

    #[test]
    fn keys_are_decoded() {
        let op = classify("GET", "/bucket/dir/a%20b%2Bc.zip", false);
        assert_eq!(op.bucket.as_deref(), Some("bucket"));
        assert_eq!(op.key.as_deref(), Some("dir/a b+c.zip"));
    }
}
