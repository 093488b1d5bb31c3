//! xz files: their payload, and the segments that rebuild them.
//!
//! Each stream becomes one compressed segment, rebuilt by liblzma's encoder at the preset
//! and check it was identified with; zero padding between or after streams (a multiple of
//! four bytes, which `xz -d` skips) and bytes after the last stream become literals (at
//! most [`MAX_TAIL`] at the end).

use super::limits::Limits;
use super::recipe::Segment;
use super::split::Split;
use crate::deflate::identify_xz;
use crate::xz::{inflate_stream, stream_check};

/// Most bytes after the last stream that a recipe keeps verbatim.
const MAX_TAIL: usize = 64 << 10;

/// Whether `data` starts like an xz stream (magic and valid stream flags).
pub(super) fn is_xz(data: &[u8]) -> bool {
    stream_check(data).is_some()
}

/// The length of the stream padding at the start of `data`: whole groups of four zero
/// bytes.
fn padding(data: &[u8]) -> usize {
    data.chunks_exact(4)
        .take_while(|group| group == &[0; 4])
        .count()
        * 4
}

/// What `xz -d` outputs for `data` (bytes after the last complete stream ignored), at most
/// `max` bytes.
pub(super) fn payload(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() && is_xz(&data[pos..]) {
        let before = out.len();
        match inflate_stream(&data[pos..], &mut out, max) {
            Some(consumed) => pos += consumed,
            // A damaged first stream makes it no xz file; a damaged later one is where
            // `xz -d` stops too (its partial output dropped here).
            None if pos == 0 || out.len() > max => return None,
            None => {
                out.truncate(before);
                break;
            }
        }
        pos += padding(&data[pos..]);
    }
    Some(out)
}

/// Cuts `data` into segments, or `None` when it is not xz, a stream is corrupt or cannot
/// be rebuilt, or the payload exceeds the limit.
pub(super) fn split(data: &[u8], limits: &Limits) -> Option<Split> {
    let mut out = Split::default();
    let mut pos = 0;
    while data.get(pos..).is_some_and(is_xz) {
        let plain_start = out.payload.len();
        let consumed = inflate_stream(&data[pos..], &mut out.payload, limits.max_payload)?;
        let stream = pos..pos + consumed;
        let plain = &out.payload[plain_start..];
        let method = identify_xz(&data[stream.clone()], plain, &limits.policy(false))?;
        out.segments.push(Segment::Deflate {
            plain_len: plain.len() as u64,
            deflate_len: Some(consumed as u64),
            method,
        });
        out.streams.push(stream);
        pos += consumed;
        let pad = padding(&data[pos..]);
        if pad > 0 && data.get(pos + pad..).is_some_and(is_xz) {
            out.segments
                .push(Segment::Literal(data[pos..pos + pad].to_vec()));
            pos += pad;
        }
    }
    let tail = &data[pos..];
    if out.streams.is_empty() || tail.len() > MAX_TAIL {
        return None;
    }
    if !tail.is_empty() {
        out.segments.push(Segment::Literal(tail.to_vec()));
    }
    Some(out)
}
