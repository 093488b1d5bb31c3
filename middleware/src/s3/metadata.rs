//! User metadata (`x-amz-meta-*`): S3's limit on it, counted as S3 counts.

use http::HeaderMap;

/// The most user metadata S3 stores with an object, in bytes.
pub const MAX_USER_METADATA: usize = 2048;

/// The size of the user metadata in `headers` as S3 counts it against
/// [`MAX_USER_METADATA`]: each name without its `x-amz-meta-` prefix, plus its value.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use deltaglider::s3::metadata::user_metadata_size;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-amz-meta-owner", HeaderValue::from_static("ops"));
/// headers.insert("content-type", HeaderValue::from_static("text/plain"));
/// assert_eq!(user_metadata_size(&headers), 5 + 3);
/// ```
pub fn user_metadata_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .filter_map(|(n, v)| {
            n.as_str()
                .strip_prefix("x-amz-meta-")
                .map(|m| m.len() + v.len())
        })
        .sum()
}
