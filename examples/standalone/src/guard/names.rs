//! Which names the filesystem backend can hold.
//!
//! `s3s-fs` stores object `key` of `bucket` as the file `<root>/<bucket>/<key>`, and beside
//! it, in `<root>` itself, sidecar files named after both:
//! `.bucket-<b64(bucket)>.object-<b64(key)>.metadata.json` (and `.internal.json`), with
//! `.upload-<uuid>` inserted while a multipart upload is open (unpadded URL-safe base64).
//! Every one of those names must fit the filesystem's name limit, or the backend fails
//! half-way: the object written, its sidecar not, the client told 500. Such keys are
//! refused before anything is written.

use deltaglider::S3Error;
use http::{Request, StatusCode};
use percent_encoding::percent_decode_str;

/// Why a name cannot be stored on a filesystem, if it cannot.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_control) {
        return Some("control characters");
    }
    unsafe_path(name)
}

/// Why a name cannot even be looked up as a path under the bucket directory, if it cannot.
fn unsafe_path(name: &str) -> Option<&'static str> {
    if name
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Some("`.` or `..` path segments");
    }
    None
}

/// Checks a request for names the filesystem backend cannot hold.
pub(crate) fn check<B>(request: &Request<B>) -> Result<(), S3Error> {
    let refuse = |what: &str, why: &str| {
        Err(S3Error::invalid_argument(format!(
            "{what} with {why} cannot be stored by the filesystem backend"
        )))
    };
    let path = percent_decode_str(request.uri().path()).decode_utf8_lossy();
    let key = path.trim_start_matches('/').split_once('/').map(|(_, k)| k);
    if let Some(key) = key {
        if let Some(why) = unsafe_name(key) {
            return refuse("an object key", why);
        }
        if key.contains("//") || key.starts_with('/') {
            return refuse("an object key", "empty path segments");
        }
    }
    if let Some(source) = request
        .headers()
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
    {
        let source = percent_decode_str(source).decode_utf8_lossy();
        if let Some(why) = unsafe_name(&source) {
            return refuse("a copy source", why);
        }
    }
    for pair in request.uri().query().unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if matches!(name, "prefix" | "start-after" | "marker" | "delimiter") {
            let value = percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            // A listing parameter names what to look for, never a file to create: a prefix
            // with control characters simply matches nothing.
            if let Some(why) = unsafe_path(&value) {
                return refuse("a listing parameter", why);
            }
        }
    }
    Ok(())
}

/// The longest file name (one path segment) ext4, XFS, Btrfs and tmpfs accept, in bytes.
pub(crate) const NAME_MAX: usize = 255;

/// Bytes a multipart upload adds to a sidecar name: `.upload-` and a hyphenated UUID.
const UPLOAD_INFIX: usize = ".upload-".len() + 36;

/// Length of unpadded base64 of `n` bytes.
fn base64_len(n: usize) -> usize {
    (4 * n).div_ceil(3)
}

/// Length of the longest sidecar name `s3s-fs` writes for `key` of `bucket`.
fn sidecar_len(bucket: &str, key: &str, open_upload: bool) -> usize {
    ".bucket-".len()
        + base64_len(bucket.len())
        + ".object-".len()
        + base64_len(key.len())
        + if open_upload { UPLOAD_INFIX } else { 0 }
        + ".metadata.json".len()
}

/// Whether the backend can store `key` of `bucket`; with `open_upload`, also while a
/// multipart upload of it is open. The error is S3's `KeyTooLongError` (400).
pub(crate) fn check_fits(bucket: &str, key: &str, open_upload: bool) -> Result<(), S3Error> {
    let too_long = |why: String| {
        Err(S3Error::new(
            "KeyTooLongError",
            StatusCode::BAD_REQUEST,
            format!("Your key is too long: {why}"),
        )
        .resource(key))
    };
    if let Some(segment) = key.split('/').find(|s| s.len() > NAME_MAX) {
        return too_long(format!(
            "the filesystem backend holds path segments of at most {NAME_MAX} bytes, one is {}",
            segment.len()
        ));
    }
    let sidecar = sidecar_len(bucket, key, open_upload);
    if sidecar > NAME_MAX {
        let longest = (0..key.len())
            .rev()
            .find(|n| sidecar_len(bucket, "", open_upload) + base64_len(*n) <= NAME_MAX)
            .unwrap_or(0);
        return too_long(format!(
            "in bucket {bucket:?} the filesystem backend holds keys of at most {longest} bytes{}, \
             this one is {}",
            if open_upload {
                " for multipart uploads"
            } else {
                ""
            },
            key.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_names_match_s3s_fs() {
        let encode = |s: &str| base64_simd::URL_SAFE_NO_PAD.encode_to_string(s);
        for (bucket, key) in [
            ("b", "k"),
            ("bucket", "a/b/c.zip"),
            ("bb", &"x".repeat(170)),
        ] {
            let plain = format!(
                ".bucket-{}.object-{}.metadata.json",
                encode(bucket),
                encode(key)
            );
            assert_eq!(sidecar_len(bucket, key, false), plain.len());
            let upload = format!(
                ".bucket-{}.object-{}.upload-{}.metadata.json",
                encode(bucket),
                encode(key),
                "0".repeat(36)
            );
            assert_eq!(sidecar_len(bucket, key, true), upload.len());
        }
    }

    #[test]
    fn longest_keys() {
        // The bound is exact: the longest accepted key's sidecar fits, one byte more does not.
        let bucket = "bucket";
        let fits = (1..=1024)
            .take_while(|n| check_fits(bucket, &"k".repeat(*n), false).is_ok())
            .count();
        assert!(check_fits(bucket, &"k".repeat(fits + 1), false).is_err());
        assert!(sidecar_len(bucket, &"k".repeat(fits), false) <= NAME_MAX);
        assert!(sidecar_len(bucket, &"k".repeat(fits + 1), false) > NAME_MAX);
        let error = check_fits(bucket, &"k".repeat(fits + 1), false).expect_err("too long");
        assert_eq!(error.code(), "KeyTooLongError");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error.message().contains(&format!("at most {fits} bytes")),
            "{}",
            error.message()
        );
        let upload = (1..=1024)
            .take_while(|n| check_fits(bucket, &"k".repeat(*n), true).is_ok())
            .count();
        assert!(upload < fits);
        assert!(check_fits(bucket, &format!("a/{}", "s".repeat(256)), false).is_err());
    }

    fn req(uri: &str, copy: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(c) = copy {
            b = b.header("x-amz-copy-source", c);
        }
        b.body(()).expect("request")
    }

    #[test]
    fn refuses_what_a_filesystem_cannot_hold() {
        for uri in [
            "/b/a/../../x.zip",
            "/b/a/..%2F..%2Fx.zip",
            "/b/%2E%2E/x",
            "/b/a//b.zip",
            "/b/./x",
            "/b/ctl%01.zip",
            "/b?prefix=..%2F",
            "/b?list-type=2&start-after=a%2F..%2F..",
        ] {
            assert!(check(&req(uri, None)).is_err(), "{uri}");
        }
        assert!(check(&req("/b/k", Some("/b/../../etc/passwd"))).is_err());
        for uri in [
            "/b/a/b.zip",
            "/b/a..b/c",
            "/b/...",
            "/b?prefix=a%2F&delimiter=%2F",
            "/b?list-type=2&prefix=%0A&encoding-type=url",
            "/b?prefix=a%01b&marker=%0D",
            "/",
            "/b",
        ] {
            assert!(check(&req(uri, None)).is_ok(), "{uri}");
        }
    }
}
