//! Files that are a sequence of self-contained compressed streams (bzip2, xz): their
//! payload, and the segments that rebuild them, written once for both formats.
//!
//! Each stream becomes one segment rebuilt by its format's encoder; padding a format
//! allows between streams becomes a literal; bytes after the last stream become one more
//! literal (at most [`MAX_TAIL`]), as the formats' tools ignore or reject them.

use std::ops::Range;

use super::limits::Limits;
use super::parallel;
use super::recipe::Segment;
use super::split::Split;
use crate::deflate::{Method, Policy};

/// Most bytes after the last stream that a recipe keeps verbatim.
const MAX_TAIL: usize = 64 << 10;

/// One stream format.
pub(super) struct Format {
    /// Whether a stream starts at the first byte.
    pub(super) starts: fn(&[u8]) -> bool,
    /// Decompresses the stream at the first byte onto the payload (at most `max` bytes in
    /// all); its compressed length.
    pub(super) inflate: fn(&[u8], &mut Vec<u8>, usize) -> Option<usize>,
    /// What rebuilds a stream (the original bytes) from its payload.
    pub(super) identify: fn(&[u8], &[u8], &Policy) -> Option<Method>,
    /// Padding the format allows after a stream, at the first byte.
    pub(super) padding: fn(&[u8]) -> usize,
}

/// What the format's decompressor outputs for `data`, at most `max` bytes: every stream
/// from the first byte on; a damaged stream after the first ends it (its partial output
/// dropped), as the tools stop there too.
pub(super) fn payload(format: &Format, data: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() && (format.starts)(&data[pos..]) {
        let before = out.len();
        match (format.inflate)(&data[pos..], &mut out, max) {
            Some(consumed) => pos += consumed,
            None if pos == 0 || out.len() > max => return None,
            None => {
                out.truncate(before);
                break;
            }
        }
        pos += (format.padding)(&data[pos..]);
    }
    Some(out)
}

/// Cuts `data` into segments, or `None` when it does not start with a stream, a stream is
/// corrupt or cannot be rebuilt, or the payload exceeds the limit. Streams are found one
/// after the other, then identified on every core (`pbzip2` writes dozens).
pub(super) fn split(format: &Format, data: &[u8], limits: &Limits) -> Option<Split> {
    let mut out = Split::default();
    // Each stream's bytes, its payload's range, and the padding after it.
    let mut found: Vec<(Range<usize>, Range<usize>, usize)> = Vec::new();
    let mut pos = 0;
    while data.get(pos..).is_some_and(format.starts) {
        let plain_start = out.payload.len();
        let consumed = (format.inflate)(&data[pos..], &mut out.payload, limits.max_payload)?;
        let stream = pos..pos + consumed;
        pos += consumed;
        let pad = (format.padding)(&data[pos..]);
        let pad = if pad > 0 && data.get(pos + pad..).is_some_and(format.starts) {
            pad
        } else {
            0
        };
        found.push((stream, plain_start..out.payload.len(), pad));
        pos += pad;
    }
    let tail = &data[pos..];
    if found.is_empty() || tail.len() > MAX_TAIL {
        return None;
    }
    let policy = limits.policy(false);
    let methods = parallel::map(&found, |(stream, plain, _)| {
        (format.identify)(&data[stream.clone()], &out.payload[plain.clone()], &policy)
    });
    for ((stream, plain, pad), method) in found.into_iter().zip(methods) {
        out.segments.push(Segment::Deflate {
            plain_len: plain.len() as u64,
            deflate_len: Some(stream.len() as u64),
            method: method?,
        });
        if pad > 0 {
            out.segments.push(Segment::Literal(
                data[stream.end..stream.end + pad].to_vec(),
            ));
        }
        out.streams.push(stream);
    }
    if !tail.is_empty() {
        out.segments.push(Segment::Literal(tail.to_vec()));
    }
    Some(out)
}
