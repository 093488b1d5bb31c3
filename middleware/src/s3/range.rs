//! `Range: bytes=…` on reconstructed objects.

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

/// Interprets a Range header value for an object of `len` bytes.
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
}
