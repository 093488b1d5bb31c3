//! zip archives: their payload, and the segments that rebuild them.
//!
//! The payload is the archive itself with each deflated member's data replaced by its
//! decompressed bytes: headers, names and the central directory stay, so they delta
//! against the reference's. A member whose stream no method rebuilds is copied as it is.

use super::limits::Limits;
use super::recipe::Segment;
use super::split::Split;
use crate::deflate::{Hint, identify};
use crate::zip::{Region, regions};

/// Whether `data` starts like a zip archive (a local file header, or an empty archive's
/// end record).
pub(super) fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06")
}

/// The payload size the archive declares: its raw bytes and its deflated members' sizes.
pub(super) fn declared_size(data: &[u8]) -> Option<u64> {
    regions(data)?.iter().try_fold(0u64, |sum, r| {
        sum.checked_add(match r {
            Region::Raw(range) => range.len() as u64,
            Region::Deflated { plain_len, .. } => *plain_len,
        })
    })
}

/// The payload of `data` read as a reference, at most `max` bytes.
pub(super) fn payload(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for region in regions(data)? {
        match region {
            Region::Raw(range) => out.extend_from_slice(&data[range]),
            Region::Deflated {
                range, plain_len, ..
            } => {
                if !inflate_into(&data[range.clone()], plain_len, &mut out, max) {
                    out.extend_from_slice(&data[range]);
                }
            }
        }
        if out.len() > max {
            return None;
        }
    }
    Some(out)
}

/// Inflates `stream` onto `out` if it is exactly one complete deflate stream of
/// `plain_len` bytes and `out` stays within `max`; leaves `out` as it was otherwise.
fn inflate_into(stream: &[u8], plain_len: u64, out: &mut Vec<u8>, max: usize) -> bool {
    let Some(want) = usize::try_from(plain_len)
        .ok()
        .filter(|&n| n <= max.saturating_sub(out.len()))
    else {
        return false;
    };
    // One byte of room past the claimed size, so a longer stream is noticed.
    let mut plain = Vec::with_capacity(want + 1);
    let mut state = flate2::Decompress::new(false);
    loop {
        let read = state.total_in() as usize;
        let wrote = plain.len();
        let status =
            state.decompress_vec(&stream[read..], &mut plain, flate2::FlushDecompress::Finish);
        match status {
            Ok(flate2::Status::StreamEnd) => break,
            Ok(_)
                if plain.len() < want + 1
                    && (plain.len() > wrote || state.total_in() as usize > read) => {}
            _ => return false,
        }
    }
    if state.total_in() as usize != stream.len() || plain.len() != want {
        return false;
    }
    out.extend_from_slice(&plain);
    true
}

/// Cuts `data` into segments, or `None` when it is not a zip this build reads or the
/// payload exceeds the limit.
pub(super) fn split(data: &[u8], limits: &Limits) -> Option<Split> {
    let mut out = Split::default();
    let mut hint: Hint = None;
    let policy = limits.policy(true);
    for region in regions(data)? {
        match region {
            Region::Raw(range) => {
                out.segments.push(Segment::Copy(range.len() as u64));
                out.payload.extend_from_slice(&data[range]);
            }
            Region::Deflated {
                range, plain_len, ..
            } => {
                let stream = &data[range.clone()];
                let start = out.payload.len();
                let rebuilt = inflate_into(stream, plain_len, &mut out.payload, limits.max_payload)
                    .then(|| identify(stream, &out.payload[start..], &mut hint, &policy))
                    .flatten();
                match rebuilt {
                    Some(method) => {
                        out.segments.push(Segment::Deflate {
                            plain_len,
                            deflate_len: Some(stream.len() as u64),
                            method,
                        });
                        out.streams.push(range);
                    }
                    None => {
                        out.payload.truncate(start);
                        out.segments.push(Segment::Copy(stream.len() as u64));
                        out.payload.extend_from_slice(stream);
                    }
                }
            }
        }
        if out.payload.len() > limits.max_payload {
            return None;
        }
    }
    Some(out)
}
