//! Entry points for the cargo-fuzz targets in `middleware/fuzz` (feature `fuzzing`): the
//! request parsers that are not public API. Not a stable interface.

use std::ops::Range;
use std::time::SystemTime;

use http::{HeaderMap, StatusCode};

/// What `Range: …` asks of an object of `len` bytes: `None` for the whole object,
/// `Some(Ok(range))` for one satisfiable range, `Some(Err(()))` for 416.
pub fn range(value: Option<&str>, len: u64) -> Option<Result<Range<u64>, ()>> {
    match crate::s3::range::parse(value, len) {
        crate::s3::range::Wanted::All => None,
        crate::s3::range::Wanted::Part(range) => Some(Ok(range)),
        crate::s3::range::Wanted::Unsatisfiable => Some(Err(())),
    }
}

/// The status S3 answers instead of an object with this quoted `etag` and `last_modified`
/// under the request's `If-*` headers, if any.
pub fn precondition(
    headers: &HeaderMap,
    etag: &str,
    last_modified: Option<SystemTime>,
) -> Option<StatusCode> {
    crate::s3::conditions::precondition(headers, etag, last_modified)
}
