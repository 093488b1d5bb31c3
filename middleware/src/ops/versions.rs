//! Requests that name an object version.
//!
//! The storage format keeps one stored form per key (`docs/FORMAT.md`): a key that may be
//! stored as a delta has no addressable versions through the layer. A request naming a
//! version of such a key (`?versionId=`, or a copy source `…?versionId=`) is answered
//! `501 NotImplemented` — never with the current version, and a versioned DELETE never
//! removes the current object. A key the layer never stores as a delta is the backend's
//! business entirely: its versioned requests are forwarded untouched.

use http::request::Parts;
use percent_encoding::percent_decode_str;

use crate::s3::error::S3Error;
use crate::s3::op::S3OpKind;
use crate::state::config::DeltaConfig;

/// What to do with a request as far as versions go.
#[derive(Debug)]
pub(crate) enum Versions {
    /// It names no version: handle it as usual.
    None,
    /// It names a version of a key never stored as a delta: forward it untouched.
    Forward,
    /// It names a version of a key that may be stored as a delta.
    Refuse(S3Error),
}

/// Classifies an object request of `kind` on `key`.
pub(crate) fn classify(config: &DeltaConfig, kind: S3OpKind, key: &str, parts: &Parts) -> Versions {
    let object_op = matches!(
        kind,
        S3OpKind::GetObject
            | S3OpKind::HeadObject
            | S3OpKind::DeleteObject
            | S3OpKind::CopyObject
            | S3OpKind::UploadPart
    );
    if !object_op {
        return Versions::None;
    }
    let mut named = Vec::new();
    if has_version(parts.uri.query().unwrap_or("")) && kind != S3OpKind::UploadPart {
        named.push(key.to_owned());
    }
    if let Some(source) = parts
        .headers
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once('?'))
        .filter(|(_, query)| has_version(query))
        .map(|(path, _)| percent_decode_str(path).decode_utf8_lossy().into_owned())
    {
        let source = source.trim_start_matches('/');
        named.push(source.split_once('/').map_or("", |(_, k)| k).to_owned());
    }
    if named.is_empty() {
        Versions::None
    } else if named.iter().any(|k| config.is_eligible(k)) {
        Versions::Refuse(refusal())
    } else {
        Versions::Forward
    }
}

/// The answer to a request for a version of a key that may be stored as a delta.
pub(crate) fn refusal() -> S3Error {
    S3Error::not_implemented(
        "object versions are not available for keys stored as deltas: the delta storage \
         format keeps one version per key",
    )
}

fn has_version(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("versionId"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, source: Option<&str>) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        if let Some(s) = source {
            b = b.header("x-amz-copy-source", s);
        }
        b.body(()).expect("request").into_parts().0
    }

    #[test]
    fn versions_of_delta_keys_are_refused_others_forwarded() {
        let config = DeltaConfig::default();
        let refused = |kind, uri, source| {
            matches!(
                classify(&config, kind, "a.zip", &parts("GET", uri, source)),
                Versions::Refuse(_)
            )
        };
        assert!(refused(S3OpKind::GetObject, "/b/a.zip?versionId=v1", None));
        assert!(refused(
            S3OpKind::DeleteObject,
            "/b/a.zip?versionId=null",
            None
        ));
        assert!(refused(
            S3OpKind::CopyObject,
            "/b/a.zip",
            Some("/b/a.zip?versionId=v")
        ));
        assert!(matches!(
            classify(
                &config,
                S3OpKind::GetObject,
                "a.zip",
                &parts("GET", "/b/a.zip", None)
            ),
            Versions::None
        ));
        assert!(matches!(
            classify(
                &config,
                S3OpKind::HeadObject,
                "a.txt",
                &parts("HEAD", "/b/a.txt?versionId=v1", None)
            ),
            Versions::Forward
        ));
        // A copy of a whole key's version into a delta key: the source names the version.
        assert!(matches!(
            classify(
                &config,
                S3OpKind::CopyObject,
                "a.txt",
                &parts("PUT", "/b/a.txt", Some("b/n%2Fa.txt?versionId=x"))
            ),
            Versions::Forward
        ));
        assert!(matches!(
            classify(
                &config,
                S3OpKind::UploadPart,
                "big.txt",
                &parts(
                    "PUT",
                    "/b/big.txt?partNumber=1&uploadId=u",
                    Some("/b/s.zip?versionId=x")
                )
            ),
            Versions::Refuse(_)
        ));
    }
}
