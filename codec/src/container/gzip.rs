//! gzip files (RFC 1952): their payload, and the segments that rebuild them.
//!
//! Each member becomes literal(header), deflate(stream), literal(trailer); bytes after
//! the last member become one more literal (at most [`MAX_TAIL`]).

mod header;
mod inflate;

use header::{TRAILER_LEN, header_len, starts_member};

use super::limits::Limits;
use super::recipe::Segment;
use super::split::Split;
use crate::deflate::{Hint, identify};

/// Most bytes after the last gzip member that a recipe keeps verbatim.
const MAX_TAIL: usize = 64 << 10;

/// Whether `data` starts like a gzip member (magic and deflate method).
pub(super) fn is_gzip(data: &[u8]) -> bool {
    starts_member(data)
}

/// What `gunzip` outputs for `gz` (bytes after the last complete member ignored), at most
/// `max` bytes.
pub(super) fn payload(gz: &[u8], max: usize) -> Option<Vec<u8>> {
    inflate::payload(gz, max)
}

/// The last member's ISIZE (payload length modulo 2^32).
pub(super) fn declared_size(gz: &[u8]) -> Option<u64> {
    let tail: [u8; 4] = gz.get(gz.len().checked_sub(4)?..)?.try_into().ok()?;
    (gz.len() >= 18).then(|| u64::from(u32::from_le_bytes(tail)))
}

/// Cuts `gz` into segments, or `None` when it is not gzip, a member is corrupt or cannot
/// be rebuilt, or the payload exceeds the limit.
pub(super) fn split(gz: &[u8], limits: &Limits) -> Option<Split> {
    let mut out = Split::default();
    let mut hint: Hint = None;
    let mut pos = 0;
    while pos < gz.len() && starts_member(&gz[pos..]) {
        let hlen = header_len(&gz[pos..])?;
        let start = pos + hlen;
        let plain_start = out.payload.len();
        let consumed = inflate::member(&gz[start..], &mut out.payload, limits.max_payload)?;
        let stream = start..start + consumed;
        let trailer = stream.end..stream.end.checked_add(TRAILER_LEN)?;
        let trailer_bytes = gz.get(trailer.clone())?;
        let plain = &out.payload[plain_start..];
        let method = identify(&gz[stream.clone()], plain, &mut hint, &limits.policy(false))?;
        out.segments.push(Segment::Literal(gz[pos..start].to_vec()));
        out.segments.push(Segment::Deflate {
            plain_len: plain.len() as u64,
            deflate_len: Some(consumed as u64),
            method,
        });
        out.segments.push(Segment::Literal(trailer_bytes.to_vec()));
        out.streams.push(stream);
        pos = trailer.end;
    }
    let tail = &gz[pos..];
    if out.streams.is_empty() || tail.len() > MAX_TAIL {
        return None;
    }
    if !tail.is_empty() {
        out.segments.push(Segment::Literal(tail.to_vec()));
    }
    Some(out)
}
