//! Byte ranges: the `Range` header of GetObject and the `x-amz-copy-source-range` of
//! UploadPartCopy.

use std::ops::Range;

/// What a Range header asks of an object of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The whole object (no header, or one S3 ignores, such as several ranges).
    All,
    /// One satisfiable range.
    Part(Range<u64>),
    /// A range that starts past the end: 416.
    Unsatisfiable,
}

/// Interprets a Range header value for an object of `len` bytes, as S3 does: one range
/// only, the end clamped to the object, and a suffix range of an empty object is the
/// whole (empty) object.
///
/// ```
/// use deltaglider::s3::range::{Wanted, parse};
/// assert_eq!(parse(Some("bytes=8-100"), 10), Wanted::Part(8..10));
/// assert_eq!(parse(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
/// assert_eq!(parse(Some("bytes=0-1,4-5"), 10), Wanted::All);
/// ```
pub fn parse(value: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::All;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.parse::<u64>(), last.parse::<u64>()) {
        // bytes=-N: the last N bytes.
        (Err(_), Ok(n)) if first.is_empty() => {
            if n == 0 {
                Wanted::Unsatisfiable
            } else if len == 0 {
                // Satisfiable (RFC 9110, 14.1.1), but a 206 cannot describe zero bytes:
                // the whole, empty object.
                Wanted::All
            } else {
                Wanted::Part(len.saturating_sub(n)..len)
            }
        }
        (Ok(a), _) if a >= len => Wanted::Unsatisfiable,
        (Ok(a), Err(_)) if last.is_empty() => Wanted::Part(a..len),
        (Ok(a), Ok(b)) if b >= a => Wanted::Part(a..(b + 1).min(len)),
        _ => Wanted::All,
    }
}

/// The range of an `x-amz-copy-source-range` value, which S3 takes only as
/// `bytes=first-last`, both given; `None` for any other form.
///
/// ```
/// use deltaglider::s3::range::copy_source_range;
/// assert_eq!(copy_source_range("bytes=0-4"), Some(0..5));
/// assert_eq!(copy_source_range("bytes=5-"), None);
/// ```
pub fn copy_source_range(value: &str) -> Option<Range<u64>> {
    let (first, last) = value.trim().strip_prefix("bytes=")?.split_once('-')?;
    let first = first.trim().parse::<u64>().ok()?;
    let last = last.trim().parse::<u64>().ok()?;
    (last >= first).then(|| first..last.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse(None, 10), Wanted::All);
        assert_eq!(parse(Some("bytes=0-3"), 10), Wanted::Part(0..4));
        assert_eq!(parse(Some("bytes=5-"), 10), Wanted::Part(5..10));
        assert_eq!(parse(Some("bytes=-3"), 10), Wanted::Part(7..10));
        assert_eq!(parse(Some("bytes=-30"), 10), Wanted::Part(0..10));
        assert_eq!(parse(Some("bytes=8-100"), 10), Wanted::Part(8..10));
        assert_eq!(parse(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 10), Wanted::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-5"), 0), Wanted::All);
        assert_eq!(parse(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        assert_eq!(parse(Some("bytes=4-2"), 10), Wanted::All);
        assert_eq!(parse(Some("bytes=0-1,4-5"), 10), Wanted::All);
        assert_eq!(parse(Some("items=0-1"), 10), Wanted::All);
    }

    #[test]
    fn copy_source_ranges() {
        assert_eq!(copy_source_range("bytes=0-0"), Some(0..1));
        assert_eq!(copy_source_range("bytes=100-199"), Some(100..200));
        for bad in [
            "bytes=-5",
            "bytes=5-",
            "bytes=4-2",
            "items=0-1",
            "bytes=0-1,2-3",
        ] {
            assert_eq!(copy_source_range(bad), None, "{bad}");
        }
    }
}
