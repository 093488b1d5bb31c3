//! The `x-amz-copy-source` request header of CopyObject and UploadPartCopy.

use percent_encoding::percent_decode_str;

/// The source bucket and key of an `x-amz-copy-source` value: `[/]bucket/key`, URL-encoded
/// as a whole (some clients encode the `/` after the bucket too), optionally followed by
/// `?versionId=…`. `None` when either part is missing or the text is not UTF-8.
///
/// ```
/// use deltaglider::s3::copy_source::parse;
/// assert_eq!(parse("/b/dir/a%20b.zip"), Some(("b".into(), "dir/a b.zip".into())));
/// assert_eq!(parse("b%2Fk?versionId=3"), Some(("b".into(), "k".into())));
/// assert_eq!(parse("b"), None);
/// ```
pub fn parse(value: &str) -> Option<(String, String)> {
    let raw = value.split('?').next().unwrap_or(value);
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    match path.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            Some((bucket.to_owned(), key.to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        let pair = |b: &str, k: &str| Some((b.to_owned(), k.to_owned()));
        assert_eq!(parse("/b/a%20b.zip"), pair("b", "a b.zip"));
        assert_eq!(parse("b/dir/k?versionId=3"), pair("b", "dir/k"));
        assert_eq!(parse("b/a+b"), pair("b", "a+b"));
        assert_eq!(parse("b"), None);
        assert_eq!(parse("/b/"), None);
        assert_eq!(parse("/b/%FF"), None);
    }
}
