//! Timestamps without a date library: RFC 3339 in UTC from Unix microseconds.

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

/// Formats Unix microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn rfc3339_micros(unix_micros: u64) -> String {
    let secs = unix_micros / 1_000_000;
    let micros = unix_micros % 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
