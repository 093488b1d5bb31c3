//! Conditional deletes: S3's `If-Match`, `x-amz-if-match-last-modified-time` and
//! `x-amz-if-match-size` on DeleteObject, `<ETag>`, `<LastModifiedTime>` and `<Size>` per
//! object of DeleteObjects.
//!
//! The layer checks them itself, against what a client sees of the object (the original's
//! ETag, size and time, whichever form it is stored in), before removing any stored form:
//! the backend only sees the stored forms, and a `.delta` removed before the backend
//! refused the condition would be lost. A key that does not exist is deleted (a no-op)
//! whatever the conditions, as S3 does. Checking and deleting are two steps: a write
//! racing between them is not detected.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode, header};

use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::s3::error::S3Error;
use crate::s3::xml::DeleteObject;
use crate::stored::keys;
use crate::stored::meta::ObjectMeta;

/// The headers of a conditional DeleteObject; removed before the request goes on.
pub(super) const HEADERS: [&str; 3] = [
    "if-match",
    "x-amz-if-match-last-modified-time",
    "x-amz-if-match-size",
];

/// What a conditional delete requires of the object.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Conditions {
    etag: Option<String>,
    last_modified: Option<SystemTime>,
    size: Option<u64>,
}

/// What a client sees of an existing object.
#[derive(Debug)]
pub(super) struct Current {
    etag: String,
    size: u64,
    last_modified: Option<SystemTime>,
}

impl Conditions {
    /// From DeleteObject's headers.
    pub(super) fn from_headers(headers: &HeaderMap) -> Result<Self, S3Error> {
        let get = |name: &str| -> Result<Option<&str>, S3Error> {
            headers
                .get(name)
                .map(|v| {
                    v.to_str()
                        .map_err(|_| S3Error::invalid_argument(format!("{name} is not ASCII")))
                })
                .transpose()
        };
        Self::parse(get(HEADERS[0])?, get(HEADERS[1])?, get(HEADERS[2])?)
    }

    /// From one `<Object>` of DeleteObjects.
    pub(super) fn from_object(object: &DeleteObject) -> Result<Self, S3Error> {
        Self::parse(
            object.etag.as_deref(),
            object.last_modified_time.as_deref(),
            object.size.as_deref(),
        )
    }

    fn parse(
        etag: Option<&str>,
        last_modified: Option<&str>,
        size: Option<&str>,
    ) -> Result<Self, S3Error> {
        let last_modified = last_modified
            .map(|t| {
                parse_time(t).ok_or_else(|| {
                    S3Error::invalid_argument(format!("{t:?} is not a date and time"))
                })
            })
            .transpose()?;
        let size = size
            .map(|s| {
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| S3Error::invalid_argument(format!("{s:?} is not a size")))
            })
            .transpose()?;
        Ok(Self {
            etag: etag.map(|e| e.trim().to_owned()),
            last_modified,
            size,
        })
    }

    /// Whether there are any.
    pub(super) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `current` meets them.
    pub(super) fn hold(&self, current: &Current) -> bool {
        let unquote = |e: &str| e.trim().trim_matches('"').to_owned();
        let etag = self
            .etag
            .as_deref()
            .is_none_or(|e| e == "*" || unquote(e) == unquote(&current.etag));
        let time = self
            .last_modified
            .is_none_or(|t| current.last_modified.map(seconds) == Some(seconds(t)));
        let size = self.size.is_none_or(|s| s == current.size);
        etag && time && size
    }
}

/// The refusal of a delete whose conditions do not hold.
pub(super) fn failed() -> S3Error {
    S3Error::new(
        "PreconditionFailed",
        StatusCode::PRECONDITION_FAILED,
        "At least one of the pre-conditions you specified did not hold",
    )
}

/// What a client sees of `key`, or `None` when it does not exist.
pub(super) async fn current<T: Backend>(call: Call<'_, T>) -> Result<Option<Current>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    if shared.config.is_eligible(key) {
        let delta_key = keys::delta_key(key);
        let head = inner.head(bucket, &delta_key).await?;
        if head.status.is_success() {
            let meta = ObjectMeta::parse(&delta_key, |name| head.meta(name))
                .map_err(|e| S3Error::internal(format!("{delta_key}: {e}")))?;
            return Ok(Some(Current {
                etag: meta.etag(),
                size: meta.file_size.unwrap_or(0),
                last_modified: last_modified(&head.headers),
            }));
        }
        if head.status != StatusCode::NOT_FOUND {
            return Err(pass_error(head));
        }
    }
    let head = inner.head(bucket, key).await?;
    if head.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !head.status.is_success() {
        return Err(pass_error(head));
    }
    let text = |name| head.headers.get(name).and_then(|v| v.to_str().ok());
    Ok(Some(Current {
        etag: text(header::ETAG).unwrap_or_default().to_owned(),
        size: text(header::CONTENT_LENGTH)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        last_modified: last_modified(&head.headers),
    }))
}

fn last_modified(headers: &HeaderMap) -> Option<SystemTime> {
    headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
}

/// Whole seconds since the epoch: `Last-Modified` has no finer resolution.
fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`) or an ISO 8601 UTC time
/// (`2015-10-21T07:28:00.000Z`, as S3 XML writes them).
fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(t) = httpdate::parse_http_date(text) {
        return Some(t);
    }
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(|n| n.parse::<i64>().ok());
    let (y, m, d) = (date.next()??, date.next()??, date.next()??);
    let time = time.split('.').next()?;
    let mut time = time.splitn(3, ':').map(|n| n.parse::<u64>().ok());
    let (hh, mm, ss) = (time.next()??, time.next()??, time.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + hh * 3600 + mm * 60 + ss))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = parse_time("Wed, 21 Oct 2015 07:28:00 GMT").expect("http date");
        assert_eq!(parse_time("2015-10-21T07:28:00.000Z"), Some(t));
        assert_eq!(parse_time("2015-10-21T07:28:00+00:00"), Some(t));
        assert_eq!(
            parse_time("2000-03-01T00:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(951_868_800))
        );
        for bad in [
            "",
            "2015-13-01T00:00:00Z",
            "2015-10-21 07:28:00",
            "yesterday",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn conditions_hold_or_not() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let current = Current {
            etag: "\"abc\"".into(),
            size: 5,
            last_modified: Some(t),
        };
        let holds = |e: Option<&str>, time: Option<&str>, s: Option<&str>| {
            Conditions::parse(e, time, s).expect("valid").hold(&current)
        };
        assert!(holds(None, None, None));
        assert!(holds(Some("\"abc\""), None, None));
        assert!(holds(Some("abc"), None, Some("5")));
        assert!(holds(
            Some("*"),
            Some("Mon, 12 Jan 1970 13:46:40 GMT"),
            None
        ));
        assert!(!holds(Some("badetag"), None, None));
        assert!(!holds(None, None, Some("9999")));
        assert!(!holds(None, Some("1970-01-12T13:46:41Z"), None));
        assert!(Conditions::parse(None, None, Some("-1")).is_err());
        assert!(Conditions::parse(None, Some("soon"), None).is_err());
        assert!(
            Conditions::parse(None, None, None)
                .expect("none")
                .is_empty()
        );
    }
}
