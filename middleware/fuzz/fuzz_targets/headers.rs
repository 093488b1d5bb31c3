//! `Range` and the conditional headers (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`) of GET and HEAD.
//!
//! Input: an object length (u16), the object's ETag and age, then four length-prefixed
//! header values (Range, If-Match, If-None-Match, one of the two dates) and a flag byte
//! choosing which date header.
//!
//! Checks: no panic; a satisfiable range lies inside the object and is not empty; a
//! refused range starts at or past the end (or asks for zero suffix bytes); preconditions
//! answer only 304 or 412, and `If-Match: *` / matching `If-None-Match` behave as S3's.
#![no_main]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::Input;
use deltaglider::fuzzing::{precondition, range};
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let len = u64::from(input.u16());
    // ETags are quoted hex (MD5s, `-N` for multipart uploads).
    let etag: String = input.bytes(8).iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{etag}\"");
    let modified = UNIX_EPOCH + Duration::from_secs(u64::from(input.u16()) * 100_000);
    let range_value = String::from_utf8_lossy(input.bytes(40)).into_owned();
    let if_match = input.bytes(40).to_vec();
    let if_none_match = input.bytes(40).to_vec();
    let date = input.bytes(40).to_vec();
    let flags = input.byte();

    match range(Some(&range_value), len) {
        None => {}
        Some(Ok(r)) => {
            assert!(
                r.start < r.end && r.end <= len,
                "{range_value:?} of {len}: {r:?}"
            );
        }
        Some(Err(())) => {}
    }
    assert_eq!(range(None, len), None);

    let mut headers = HeaderMap::new();
    let mut set = |name, value: &[u8]| {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(name, v);
        }
    };
    if flags & 1 != 0 {
        set(http::header::IF_MATCH, &if_match);
    }
    if flags & 2 != 0 {
        set(http::header::IF_NONE_MATCH, &if_none_match);
    }
    let date_header = if flags & 4 != 0 {
        http::header::IF_MODIFIED_SINCE
    } else {
        http::header::IF_UNMODIFIED_SINCE
    };
    set(date_header, &date);
    let answer = precondition(&headers, &etag, Some(modified));
    assert!(
        matches!(
            answer,
            None | Some(StatusCode::NOT_MODIFIED | StatusCode::PRECONDITION_FAILED)
        ),
        "{answer:?}"
    );
    let mut only = HeaderMap::new();
    only.insert(http::header::IF_MATCH, HeaderValue::from_static("*"));
    assert_eq!(precondition(&only, &etag, Some(modified)), None);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        let mut only = HeaderMap::new();
        only.insert(http::header::IF_NONE_MATCH, v);
        assert_eq!(
            precondition(&only, &etag, Some(modified)),
            Some(StatusCode::NOT_MODIFIED)
        );
    }
});
