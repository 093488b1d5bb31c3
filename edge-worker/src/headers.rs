//! S3 headers on the R2 side: ranges, conditions, dates and the split of a request's
//! headers into R2's HTTP metadata and custom metadata.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, StatusCode, header};

/// What a `Range` header asks of an object of a known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// The whole object (no header, or one S3 ignores, such as several ranges).
    All,
    /// `length` bytes from `offset`, both inside the object.
    Part {
        /// First byte.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
    /// Starts past the end: 416 `InvalidRange`.
    Unsatisfiable,
}

impl ByteRange {
    /// Interprets `Range: bytes=…` for an object of `size` bytes, as S3 does.
    pub fn parse(value: Option<&str>, size: u64) -> Self {
        let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
            return Self::All;
        };
        let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
            return Self::All;
        };
        let part = |start: u64, end: u64| Self::Part {
            offset: start,
            length: end - start,
        };
        match (first.trim(), last.trim()) {
            ("", n) => match n.parse::<u64>() {
                Ok(0) => Self::Unsatisfiable,
                Ok(_) if size == 0 => Self::Unsatisfiable,
                Ok(n) => part(size.saturating_sub(n), size),
                Err(_) => Self::All,
            },
            (a, b) => match (a.parse::<u64>(), b.parse::<u64>(), b.is_empty()) {
                (Ok(a), _, _) if a >= size => Self::Unsatisfiable,
                (Ok(a), _, true) => part(a, size),
                (Ok(a), Ok(b), false) if b >= a => part(a, (b + 1).min(size)),
                _ => Self::All,
            },
        }
    }
}

/// Evaluates `If-Match`, `If-None-Match`, `If-Modified-Since` and `If-Unmodified-Since`
/// against an object's quoted ETag and upload time, the way S3 does: the status to answer
/// with instead of the object, if any.
pub fn precondition(headers: &HeaderMap, etag: &str, modified_ms: u64) -> Option<StatusCode> {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let matches = |list: &str| {
        list.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
    };
    // HTTP dates have whole seconds.
    let modified = UNIX_EPOCH + Duration::from_secs(modified_ms / 1000);
    let date = |name| get(name).and_then(|v| httpdate::parse_http_date(v).ok());
    let if_match = get(header::IF_MATCH);
    if if_match.is_some_and(|l| !matches(l)) {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    if if_match.is_none() && date(header::IF_UNMODIFIED_SINCE).is_some_and(|s| modified > s) {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    let if_none_match = get(header::IF_NONE_MATCH);
    if if_none_match.is_some_and(matches) {
        return Some(StatusCode::NOT_MODIFIED);
    }
    if if_none_match.is_none() && date(header::IF_MODIFIED_SINCE).is_some_and(|s| modified <= s) {
        return Some(StatusCode::NOT_MODIFIED);
    }
    None
}

/// An HTTP date (`Last-Modified`) from milliseconds since the epoch.
pub fn http_date(ms: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms))
}

/// An ISO 8601 UTC timestamp with milliseconds, as S3 listings show them.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The standard headers R2 keeps as an object's HTTP metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpMeta {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`, without `aws-chunked` (a transfer framing, not the object's).
    pub content_encoding: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, in milliseconds since the epoch.
    pub expires_ms: Option<u64>,
}

/// What R2 stores of a request's headers: HTTP metadata, and the `x-amz-meta-*` headers
/// as custom metadata (names without the prefix, lower case as S3 keeps them).
pub fn object_metadata(headers: &HeaderMap) -> (HttpMeta, Vec<(String, String)>) {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_encoding = text(header::CONTENT_ENCODING)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|v| !v.is_empty());
    let http = HttpMeta {
        content_type: text(header::CONTENT_TYPE),
        content_language: text(header::CONTENT_LANGUAGE),
        content_disposition: text(header::CONTENT_DISPOSITION),
        content_encoding,
        cache_control: text(header::CACHE_CONTROL),
        expires_ms: text(header::EXPIRES)
            .and_then(|v| httpdate::parse_http_date(&v).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64),
    };
    let custom = headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    (http, custom)
}

/// The payload length a request declares: its `Content-Length` (bodies reach R2 plain,
/// decoded by the ingest in front).
pub fn payload_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A `Content-MD5` header that is not the base64 of 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Content-MD5 is not the base64 of 16 bytes")]
pub struct InvalidMd5;

/// The 16 bytes of a `Content-MD5` header (standard base64), `None` when absent.
pub fn content_md5(headers: &HeaderMap) -> Result<Option<[u8; 16]>, InvalidMd5> {
    let Some(value) = headers.get("content-md5") else {
        return Ok(None);
    };
    let text = value.as_bytes().trim_ascii();
    let digit = |c: u8| match c {
        b'A'..=b'Z' => Ok(u32::from(c - b'A')),
        b'a'..=b'z' => Ok(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Ok(u32::from(c - b'0') + 52),
        b'+' => Ok(62),
        b'/' => Ok(63),
        _ => Err(InvalidMd5),
    };
    // 16 bytes are 22 digits and "==".
    let digits = text
        .strip_suffix(b"==")
        .filter(|d| d.len() == 22)
        .ok_or(InvalidMd5)?;
    let mut out = Vec::with_capacity(18);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= digit(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out.try_into().map(Some).map_err(|_| InvalidMd5)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn ranges() {
        let p = |v: &str, size| ByteRange::parse(Some(v), size);
        let part = |offset, length| ByteRange::Part { offset, length };
        assert_eq!(ByteRange::parse(None, 10), ByteRange::All);
        assert_eq!(p("bytes=0-4", 10), part(0, 5));
        assert_eq!(p("bytes=5-", 10), part(5, 5));
        assert_eq!(p("bytes=8-100", 10), part(8, 2));
        assert_eq!(p("bytes=-3", 10), part(7, 3));
        assert_eq!(p("bytes=-30", 10), part(0, 10));
        assert_eq!(p("bytes=10-", 10), ByteRange::Unsatisfiable);
        assert_eq!(p("bytes=-0", 10), ByteRange::Unsatisfiable);
        assert_eq!(p("bytes=0-1,3-4", 10), ByteRange::All);
        assert_eq!(p("bytes=4-2", 10), ByteRange::All);
        assert_eq!(p("items=0-1", 10), ByteRange::All);
    }

    #[test]
    fn preconditions() {
        let etag = "\"abc\"";
        let modified = 1_795_000_000_000;
        let mut h = HeaderMap::new();
        assert_eq!(precondition(&h, etag, modified), None);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(
            precondition(&h, etag, modified),
            Some(StatusCode::NOT_MODIFIED)
        );
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"x\""));
        assert_eq!(
            precondition(&h, etag, modified),
            Some(StatusCode::PRECONDITION_FAILED)
        );
        let mut h = HeaderMap::new();
        let later = HeaderValue::from_str(&http_date(modified + 60_000)).expect("date");
        h.insert(header::IF_MODIFIED_SINCE, later.clone());
        assert_eq!(
            precondition(&h, etag, modified),
            Some(StatusCode::NOT_MODIFIED)
        );
        let mut h = HeaderMap::new();
        h.insert(header::IF_UNMODIFIED_SINCE, later);
        assert_eq!(precondition(&h, etag, modified), None);
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_795_688_043_512), "2026-11-26T10:14:03.512Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn metadata_split() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("aws-chunked, gzip"),
        );
        h.insert("x-amz-meta-build", HeaderValue::from_static("1234"));
        h.insert("x-amz-meta-dg-file-size", HeaderValue::from_static("12"));
        h.insert("x-amz-acl", HeaderValue::from_static("private"));
        let (http, mut custom) = object_metadata(&h);
        custom.sort();
        assert_eq!(http.content_type.as_deref(), Some("application/zip"));
        assert_eq!(http.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(
            custom,
            vec![
                ("build".to_owned(), "1234".to_owned()),
                ("dg-file-size".to_owned(), "12".to_owned())
            ]
        );
    }

    #[test]
    fn content_md5_values() {
        let mut h = HeaderMap::new();
        assert_eq!(content_md5(&h), Ok(None));
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        h.insert(
            "content-md5",
            HeaderValue::from_static("1B2M2Y8AsgTpgAmY7PhCfg=="),
        );
        let expected = [
            0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
            0x42, 0x7e,
        ];
        assert_eq!(content_md5(&h), Ok(Some(expected)));
        for bad in ["1B2M2Y8AsgTpgAmY7PhCfg", "!B2M2Y8AsgTpgAmY7PhCfg==", "Zm9v"] {
            h.insert("content-md5", HeaderValue::from_static(bad));
            assert_eq!(content_md5(&h), Err(InvalidMd5), "{bad}");
        }
    }

    #[test]
    fn payload_lengths() {
        let mut h = HeaderMap::new();
        assert_eq!(payload_length(&h), None);
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("100"));
        assert_eq!(payload_length(&h), Some(100));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("x"));
        assert_eq!(payload_length(&h), None);
    }
}
