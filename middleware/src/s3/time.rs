//! Time as S3 writes it: RFC 3339 timestamps in UTC (XML documents, stored metadata) and
//! HTTP dates (headers), and the clock the layer reads.

use std::sync::Arc;
use std::time::SystemTime;

use crate::compat::MaybeSend;

/// The current time, as the layer sees it.
///
/// Implemented for closures `Fn() -> SystemTime`. wasm32 has no `SystemTime::now()` (it
/// panics there), so a Worker supplies one built from `Date.now()`:
/// `|| UNIX_EPOCH + Duration::from_millis(js_sys::Date::now() as u64)`.
pub trait Clock: MaybeSend + Sync + 'static {
    /// Now.
    fn now(&self) -> SystemTime;
}

impl<F> Clock for F
where
    F: Fn() -> SystemTime + MaybeSend + Sync + 'static,
{
    fn now(&self) -> SystemTime {
        self()
    }
}

/// Formats Unix microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the stored metadata's
/// timestamps).
///
/// ```
/// use deltaglider::s3::time::rfc3339_micros;
/// assert_eq!(rfc3339_micros(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
/// ```
pub fn rfc3339_micros(unix_micros: u64) -> String {
    let secs = unix_micros / 1_000_000;
    format!("{}.{:06}Z", civil_seconds(secs), unix_micros % 1_000_000)
}

/// Formats Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.fffZ`, the form S3 writes in its XML
/// documents (listings' `LastModified`, copy results).
///
/// ```
/// use deltaglider::s3::time::rfc3339_millis;
/// assert_eq!(rfc3339_millis(1_795_688_043_512), "2026-11-26T10:14:03.512Z");
/// ```
pub fn rfc3339_millis(unix_millis: u64) -> String {
    let secs = unix_millis / 1000;
    format!("{}.{:03}Z", civil_seconds(secs), unix_millis % 1000)
}

/// The ISO 8601 basic form SigV4 signs with (`x-amz-date`): `YYYYMMDDTHHMMSSZ`, in UTC,
/// the fraction of a second dropped.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use deltaglider::s3::time::amz_date;
/// assert_eq!(amz_date(UNIX_EPOCH + Duration::from_millis(1_700_000_000_999)), "20231114T221320Z");
/// ```
pub fn amz_date(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_seconds(secs).replace(['-', ':'], "") + "Z"
}

/// `YYYY-MM-DDTHH:MM:SS` of Unix seconds, in UTC.
fn civil_seconds(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An HTTP date (`Last-Modified`, `Expires`: `Thu, 01 Jan 1970 00:00:00 GMT`); the
/// fraction of a second is dropped, as HTTP dates have none.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use deltaglider::s3::time::http_date;
/// let at = UNIX_EPOCH + Duration::from_millis(1_795_688_043_512);
/// assert_eq!(http_date(at), "Thu, 26 Nov 2026 10:14:03 GMT");
/// ```
pub fn http_date(at: SystemTime) -> String {
    httpdate::fmt_http_date(at)
}

/// Reads an HTTP date in any of the three forms HTTP allows (IMF-fixdate, RFC 850,
/// asctime); `None` for anything else.
///
/// ```
/// use deltaglider::s3::time::{http_date, parse_http_date};
/// let at = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").unwrap();
/// assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(parse_http_date("yesterday"), None);
/// ```
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text.trim()).ok()
}

/// Now by `clock`, in Unix microseconds; 0 without one (wasm32 has no clock of its own:
/// the host supplies one with [`DeltaConfig::clock`](crate::DeltaConfig::clock)).
pub fn now_micros(clock: Option<&dyn Clock>) -> u64 {
    clock.map_or(0, |clock| {
        clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    })
}

/// The platform's clock, where it has one.
pub fn default_clock() -> Option<Arc<dyn Clock>> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        Some(Arc::new(std::time::SystemTime::now))
    }
    #[cfg(target_arch = "wasm32")]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_given_is_the_time_written() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_795_000_000_123_456);
        let clock = move || at;
        assert_eq!(now_micros(Some(&clock)), 1_795_000_000_123_456);
        assert_eq!(now_micros(None), 0);
    }

    #[test]
    fn millisecond_timestamps() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400_999), "2000-02-29T00:00:00.999Z");
        // The last second four-digit years can write.
        assert_eq!(
            rfc3339_millis(253_402_300_799_000),
            "9999-12-31T23:59:59.000Z"
        );
    }

    #[test]
    fn http_dates() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_500);
        assert_eq!(http_date(at), "Thu, 01 Jan 1970 00:00:01 GMT");
        let parsed = parse_http_date(" Thu, 01 Jan 1970 00:00:01 GMT ");
        assert_eq!(
            parsed,
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1))
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970"), None);
    }

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339_micros(1_795_000_000_123_456),
            "2026-11-18T11:06:40.123456Z"
        );
        assert_eq!(
            rfc3339_micros(951_782_400_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
