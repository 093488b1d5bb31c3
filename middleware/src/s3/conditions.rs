//! Conditional reads: `If-Match`, `If-None-Match`, `If-Modified-Since` and
//! `If-Unmodified-Since` on GetObject and HeadObject.
//!
//! They are evaluated in RFC 9110's order (section 13.2.2), which is what S3's GetObject
//! documents: an `If-Match` present makes `If-Unmodified-Since` irrelevant, and an
//! `If-None-Match` present makes `If-Modified-Since` irrelevant. ETags compare after a
//! `W/` prefix is dropped; `*` matches any object.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderName};
use http::{HeaderMap, StatusCode};

use crate::s3::time::parse_http_date;

/// The status to answer with instead of the object, if the request's conditions do not
/// hold for an object with the quoted `etag`, last modified at `last_modified` (when
/// known: without it the date conditions are ignored): 412 or 304.
///
/// ```
/// use http::{HeaderMap, HeaderValue, StatusCode};
/// use deltaglider::s3::conditions::precondition;
/// let mut headers = HeaderMap::new();
/// headers.insert("if-none-match", HeaderValue::from_static("\"abc\""));
/// assert_eq!(precondition(&headers, "\"abc\"", None), Some(StatusCode::NOT_MODIFIED));
/// assert_eq!(precondition(&headers, "\"xyz\"", None), None);
/// ```
pub fn precondition(
    headers: &HeaderMap,
    etag: &str,
    last_modified: Option<SystemTime>,
) -> Option<StatusCode> {
    let get = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let matches = |list: &str| {
        list.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
    };
    let date = |name| get(name).and_then(parse_http_date);
    // A client compares against the Last-Modified it was shown, which has whole seconds.
    let modified = last_modified.map(whole_seconds);
    let if_match = get(header::IF_MATCH);
    if if_match.is_some_and(|l| !matches(l)) {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    if if_match.is_none()
        && let (Some(since), Some(modified)) = (date(header::IF_UNMODIFIED_SINCE), modified)
        && modified > since
    {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    let if_none_match = get(header::IF_NONE_MATCH);
    if if_none_match.is_some_and(matches) {
        return Some(StatusCode::NOT_MODIFIED);
    }
    if if_none_match.is_none()
        && let (Some(since), Some(modified)) = (date(header::IF_MODIFIED_SINCE), modified)
        && modified <= since
    {
        return Some(StatusCode::NOT_MODIFIED);
    }
    None
}

/// `at` without its fraction of a second.
fn whole_seconds(at: SystemTime) -> SystemTime {
    at.duration_since(UNIX_EPOCH)
        .map_or(at, |d| UNIX_EPOCH + Duration::from_secs(d.as_secs()))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::s3::time::http_date;

    #[test]
    fn etags() {
        let mut h = HeaderMap::new();
        let etag = "\"abc\"";
        assert_eq!(precondition(&h, etag, None), None);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abc\""));
        assert_eq!(precondition(&h, etag, None), Some(StatusCode::NOT_MODIFIED));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(
            precondition(&h, etag, None),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"x\", *"));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"y\""));
        assert_eq!(precondition(&h, etag, None), None);
    }

    #[test]
    fn dates() {
        let modified = parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT");
        let with = |name, value: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            precondition(&h, "\"e\"", modified)
        };
        let later = "Wed, 25 Nov 2026 11:00:00 GMT";
        let earlier = "Wed, 25 Nov 2026 09:00:00 GMT";
        assert_eq!(
            with(header::IF_MODIFIED_SINCE, later),
            Some(StatusCode::NOT_MODIFIED)
        );
        assert_eq!(with(header::IF_MODIFIED_SINCE, earlier), None);
        assert_eq!(
            with(header::IF_UNMODIFIED_SINCE, earlier),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        assert_eq!(with(header::IF_UNMODIFIED_SINCE, later), None);
        assert_eq!(with(header::IF_MODIFIED_SINCE, "not a date"), None);
    }

    #[test]
    fn etag_conditions_outrank_dates() {
        let modified = parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT");
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"e\""));
        h.insert(
            header::IF_UNMODIFIED_SINCE,
            HeaderValue::from_static("Wed, 25 Nov 2026 09:00:00 GMT"),
        );
        assert_eq!(precondition(&h, "\"e\"", modified), None);
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Wed, 25 Nov 2026 11:00:00 GMT"),
        );
        assert_eq!(precondition(&h, "\"e\"", modified), None);
    }

    #[test]
    fn the_date_shown_is_not_modified_since() {
        // Stored with milliseconds; the client saw Last-Modified without them.
        let stored = UNIX_EPOCH + Duration::from_millis(1_795_000_000_750);
        let shown = http_date(stored);
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&shown).expect("date"),
        );
        assert_eq!(
            precondition(&h, "\"e\"", Some(stored)),
            Some(StatusCode::NOT_MODIFIED)
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_UNMODIFIED_SINCE,
            HeaderValue::from_str(&shown).expect("date"),
        );
        assert_eq!(precondition(&h, "\"e\"", Some(stored)), None);
    }
}
