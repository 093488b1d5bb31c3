//! What a path-style request names, and the checks that need only its request line and
//! the disk: shared by the guard in front of the backend and the admission in front of the
//! DeltaLayer.

use std::path::{Path, PathBuf};

use deltaglider::S3Error;
use http::{Method, StatusCode, Uri};
use percent_encoding::percent_decode_str;

use super::{names, uploads};

/// The bucket and key a path-style request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) bucket: String,
    pub(super) key: Option<String>,
}

impl Target {
    pub(super) fn of(uri: &Uri) -> Option<Self> {
        let path = percent_decode_str(uri.path()).decode_utf8_lossy();
        let path = path.strip_prefix('/').unwrap_or(&path);
        // The proxy's own endpoints (the savings API): no bucket starts with `_`.
        if path.starts_with("_deltaglider/") {
            return None;
        }
        let (bucket, key) = match path.split_once('/') {
            Some((bucket, key)) => (bucket, Some(key).filter(|k| !k.is_empty())),
            None => (path, None),
        };
        (!bucket.is_empty()).then(|| Self {
            bucket: bucket.to_owned(),
            key: key.map(str::to_owned),
        })
    }
}

/// The decoded value of query parameter `name`, `Some("")` when it has none.
pub(super) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (n, value) = pair.split_once('=').unwrap_or((pair, ""));
        (n == name).then(|| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

pub(super) fn no_such_bucket(bucket: &str) -> S3Error {
    S3Error::new(
        "NoSuchBucket",
        StatusCode::NOT_FOUND,
        "The specified bucket does not exist",
    )
    .resource(bucket)
}

pub(super) fn no_such_upload(id: &str) -> S3Error {
    S3Error::new(
        "NoSuchUpload",
        StatusCode::NOT_FOUND,
        "The specified upload does not exist. The upload ID may be invalid, or the upload \
         may have been aborted or completed.",
    )
    .resource(id)
}

/// What a request will write, if anything: `Some(true)` while a multipart upload is
/// opened (its sidecar names are longer), `Some(false)` for an object.
pub(super) fn writes(method: &Method, uri: &Uri) -> Option<bool> {
    let upload_id = query_param(uri, "uploadId").is_some();
    match *method {
        Method::PUT if !upload_id => Some(false),
        Method::POST if query_param(uri, "uploads").is_some() => Some(true),
        Method::POST if upload_id => Some(false),
        _ => None,
    }
}

/// The checks that need only the request line and the disk: a missing bucket, a key that
/// cannot be stored, an unknown upload, a directory read as an object.
pub(super) fn refuse(
    root: &Path,
    method: &Method,
    uri: &Uri,
    target: &Target,
) -> Result<(), S3Error> {
    let creates_bucket = *method == Method::PUT && target.key.is_none();
    if !creates_bucket && !root.join(&target.bucket).is_dir() {
        return Err(no_such_bucket(&target.bucket));
    }
    let Some(key) = &target.key else {
        return Ok(());
    };
    deltaglider::keys::check_key_length(key).map_err(|e| S3Error::from(e).resource(key))?;
    if let Some(open_upload) = writes(method, uri) {
        names::check_fits(&target.bucket, key, open_upload)?;
    }
    if let Some(id) = query_param(uri, "uploadId")
        && !uploads::belongs(root, &id, &target.bucket, key)
    {
        return Err(no_such_upload(&id));
    }
    if (*method == Method::GET || *method == Method::HEAD)
        && (names::check_fits(&target.bucket, key, false).is_err()
            || root.join(&target.bucket).join(key).is_dir())
    {
        // Nothing can be stored under such a name.
        return Err(S3Error::no_such_key(key));
    }
    Ok(())
}

/// The file an object request names.
pub(super) fn object_path(root: &Path, uri: &Uri) -> Option<PathBuf> {
    let target = Target::of(uri)?;
    Some(root.join(target.bucket).join(target.key?))
}
