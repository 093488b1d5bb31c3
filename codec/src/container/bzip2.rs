//! bzip2 files: their payload, and the segments that rebuild them.
//!
//! Each stream (one for `bzip2`, Python's `bz2` and `tar cjf`; one per 900 kB chunk for
//! `pbzip2`; one per file for concatenated `.bz2` files) becomes one compressed segment,
//! rebuilt by libbzip2's compressor at the stream's block size; streams rebuild in
//! parallel. Bytes after the last stream become one more literal (at most [`MAX_TAIL`]),
//! as `bunzip2` ignores them.

use super::limits::Limits;
use super::recipe::Segment;
use super::split::Split;
use crate::bz2::{block_size, inflate_stream};
use crate::deflate::identify_bzip2;

/// Most bytes after the last stream that a recipe keeps verbatim.
const MAX_TAIL: usize = 64 << 10;

/// Whether `data` starts like a bzip2 stream (magic, block size, block or end magic).
pub(super) fn is_bzip2(data: &[u8]) -> bool {
    block_size(data).is_some()
}

/// What `bunzip2` outputs for `data` (bytes after the last complete stream ignored), at
/// most `max` bytes.
pub(super) fn payload(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() && is_bzip2(&data[pos..]) {
        let before = out.len();
        match inflate_stream(&data[pos..], &mut out, max) {
            Some(consumed) => pos += consumed,
            // A damaged first stream makes it no bzip2 file; a damaged later one is
            // where `bunzip2` stops too (its partial output dropped here).
            None if pos == 0 || out.len() > max => return None,
            None => {
                out.truncate(before);
                break;
            }
        }
    }
    Some(out)
}

/// Cuts `data` into segments, or `None` when it is not bzip2, a stream is corrupt or
/// cannot be rebuilt, or the payload exceeds the limit.
pub(super) fn split(data: &[u8], limits: &Limits) -> Option<Split> {
    let mut out = Split::default();
    let mut pos = 0;
    while let Some(block_size) = data.get(pos..).and_then(block_size) {
        let plain_start = out.payload.len();
        let consumed = inflate_stream(&data[pos..], &mut out.payload, limits.max_payload)?;
        let stream = pos..pos + consumed;
        let plain = &out.payload[plain_start..];
        let method = identify_bzip2(
            &data[stream.clone()],
            plain,
            block_size,
            &limits.policy(false),
        )?;
        out.segments.push(Segment::Deflate {
            plain_len: plain.len() as u64,
            deflate_len: Some(consumed as u64),
            method,
        });
        out.streams.push(stream);
        pos += consumed;
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
