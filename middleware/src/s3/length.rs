//! The payload length a request declares.

use http::{HeaderMap, header};

/// The request's `Content-Length`, if it is a number. Behind the ingest this is the
/// payload's length even for an `aws-chunked` upload: the ingest sets it to the value of
/// `x-amz-decoded-content-length`.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use deltaglider::s3::length::content_length;
/// let mut headers = HeaderMap::new();
/// assert_eq!(content_length(&headers), None);
/// headers.insert("content-length", HeaderValue::from_static("100"));
/// assert_eq!(content_length(&headers), Some(100));
/// ```
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn lengths() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static(" 7 "));
        assert_eq!(content_length(&h), Some(7));
        for bad in ["x", "-1", ""] {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static(bad));
            assert_eq!(content_length(&h), None, "{bad:?}");
        }
    }
}
