//! Which stored form of a key is current when both `<key>` and `<key>.delta` exist.
//!
//! A writer that changes a key's form writes the new form first and removes the old one
//! after; a writer that crashes in between (or a backend that assembles a multipart upload
//! at `<key>` while a delta of it exists) leaves both. Readers then serve the one written
//! last (`docs/FORMAT.md`, section 3): by `dg-created-at` when both carry one, else by the
//! backend's `Last-Modified`; on a tie `<key>` wins, as the Python CLI reads it. A
//! `<key>.delta` without DeltaGlider's metadata (a crash between a backend writing its
//! data and its metadata) never wins over a `<key>`: it was never a finished write. GET, HEAD,
//! LIST, CopyObject and writers deciding what is stale all ask [`whole_wins`], so they agree.

use std::cmp::Ordering;

use http::{HeaderMap, header};

/// The metadata names a creation time is stored under (FORMAT.md, section 5).
const CREATED_AT: &[&str] = &[
    "x-amz-meta-dg-created-at",
    "x-amz-meta-dg_created_at",
    "x-amz-meta-created_at",
    "x-amz-meta-created-at",
];

/// When one stored form was written, as precisely as its headers tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    /// `dg-created-at`, Unix microseconds (the writer's clock).
    created: Option<u64>,
    /// `Last-Modified`, Unix seconds (the backend's clock).
    modified: Option<u64>,
    /// It records the original's SHA-256 (what every finished delta carries).
    records_original: bool,
}

impl Written {
    /// Reads the times from a stored object's response headers.
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let created = CREATED_AT
            .iter()
            .find_map(|name| text(name))
            .and_then(rfc3339_micros);
        let modified = text(header::LAST_MODIFIED.as_str())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        Self {
            created,
            modified,
            records_original: crate::stored::meta::records_original(headers),
        }
    }
}

/// Whether `<key>` (written at `whole`) is current rather than `<key>.delta` (`delta`).
pub(crate) fn whole_wins(delta: &Written, whole: &Written) -> bool {
    order(delta, whole) != Ordering::Less
}

/// When `whole` was written relative to `delta`: `Greater` later, `Less` earlier, `Equal`
/// when the clocks cannot tell (then readers take `<key>`, and a writer that just wrote
/// one form still removes the other: only a strictly later write of it is kept).
pub(crate) fn order(delta: &Written, whole: &Written) -> Ordering {
    if !delta.records_original {
        return Ordering::Greater;
    }
    // Both times from writers' clocks, to the microsecond: the precise answer.
    if let (Some(d), Some(w)) = (delta.created, whole.created) {
        return w.cmp(&d);
    }
    // Otherwise the backend's own clock, to the second, for both; a side it has not
    // dated falls back to its writer's time.
    let seconds = |w: &Written| w.modified.or(w.created.map(|c| c / 1_000_000));
    match (seconds(delta), seconds(whole)) {
        (Some(d), Some(w)) => w.cmp(&d),
        _ => Ordering::Equal,
    }
}

/// Parses an RFC 3339 time (`YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`; legacy values
/// without a zone are UTC) into Unix microseconds. `None` for anything else, and for the
/// epoch itself (what a writer without a clock records).
fn rfc3339_micros(text: &str) -> Option<u64> {
    let text = text.trim();
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut rest = &text[19..];
    let mut micros = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = &fraction[..digits.min(6)];
        micros = kept.parse::<i64>().ok()? * 10i64.pow(6 - kept.len() as u32);
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = zone[1..].split_once(':')?;
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    // Howard Hinnant's days-from-civil algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let total = secs.checked_mul(1_000_000)?.checked_add(micros)?;
    u64::try_from(total).ok().filter(|&t| t > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_writers_record() {
        assert_eq!(
            rfc3339_micros("2026-11-18T11:06:40.123456Z"),
            Some(1_795_000_000_123_456)
        );
        assert_eq!(
            rfc3339_micros(&crate::s3::time::rfc3339_micros(1_795_000_000_123_456)),
            Some(1_795_000_000_123_456)
        );
        // The Python CLI's legacy values: no zone, or no fraction; milliseconds; offsets.
        assert_eq!(
            rfc3339_micros("2026-11-18T11:06:40.123"),
            Some(1_795_000_000_123_000)
        );
        assert_eq!(
            rfc3339_micros("2026-11-18T11:06:40"),
            Some(1_795_000_000_000_000)
        );
        assert_eq!(
            rfc3339_micros("2026-11-18T12:06:40+01:00"),
            Some(1_795_000_000_000_000)
        );
        assert_eq!(
            rfc3339_micros("2000-02-29T00:00:00.000000Z"),
            Some(951_782_400_000_000)
        );
        for bad in [
            "",
            "1970-01-01T00:00:00.000000Z",
            "2026-13-18T11:06:40Z",
            "2026-11-18T11:06:40.Z",
            "2026-11-18T11:06:40 UTC",
            "yesterday",
        ] {
            assert_eq!(rfc3339_micros(bad), None, "{bad:?}");
        }
    }

    fn written(created: Option<&str>, modified: Option<&str>) -> Written {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-meta-dg-file-sha256", "00".parse().expect("value"));
        if let Some(c) = created {
            headers.insert("x-amz-meta-dg-created-at", c.parse().expect("value"));
        }
        if let Some(m) = modified {
            headers.insert(header::LAST_MODIFIED, m.parse().expect("value"));
        }
        Written::of(&headers)
    }

    #[test]
    fn the_form_written_last_wins() {
        let early = "2026-11-18T11:06:40.100000Z";
        let late = "2026-11-18T11:06:40.900000Z";
        let second = "Wed, 18 Nov 2026 11:06:40 GMT";
        let next_second = "Wed, 18 Nov 2026 11:06:41 GMT";
        // Both dated by their writers: to the microsecond, within one backend second.
        assert!(whole_wins(
            &written(Some(early), Some(second)),
            &written(Some(late), Some(second))
        ));
        assert!(!whole_wins(
            &written(Some(late), Some(second)),
            &written(Some(early), Some(second))
        ));
        // A whole object the backend assembled (multipart) carries no writer's time: the
        // backend's seconds decide, a tie goes to `<key>`.
        assert!(whole_wins(
            &written(Some(late), Some(second)),
            &written(None, Some(next_second))
        ));
        assert!(!whole_wins(
            &written(Some(late), Some(next_second)),
            &written(None, Some(second))
        ));
        assert!(whole_wins(
            &written(Some(late), Some(second)),
            &written(None, Some(second))
        ));
        // A writer without a clock (the epoch) counts as undated.
        assert!(whole_wins(
            &written(Some(late), Some(second)),
            &written(Some("1970-01-01T00:00:00.000000Z"), Some(next_second))
        ));
        // A delta a crash left without its metadata never wins, however new.
        let mut bare = HeaderMap::new();
        bare.insert(header::LAST_MODIFIED, next_second.parse().expect("value"));
        assert!(whole_wins(
            &Written::of(&bare),
            &written(None, Some(second))
        ));
        assert_eq!(
            order(&Written::of(&bare), &written(None, Some(second))),
            Ordering::Greater
        );
        // Nothing known: `<key>`, as the Python CLI reads.
        assert!(whole_wins(&written(None, None), &written(None, None)));
        assert_eq!(
            order(&written(None, Some(second)), &written(None, Some(second))),
            Ordering::Equal
        );
    }
}
