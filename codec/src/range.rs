//! Decoding part of a target: only the windows that cover a byte range, with the
//! reference in memory or read on demand (the parts those windows copy from).

use std::ops::Range;

use crate::error::{Error, Result};
use crate::memory::check_declared_len;
use crate::pure::{self, Segment};
use crate::reference::ReferenceReader;
use crate::secondary;
use crate::vcdiff::{self, Window};

/// Decodes only the windows of `delta` that cover `range` of the target and returns those
/// bytes: work and memory bounded by the range plus one window, whatever the object size.
///
/// The whole object's SHA-256 cannot be checked this way; each decoded window's Adler-32 is.
/// Deltas without per-window checksums are refused (`Error::Unsupported`): decode them
/// whole with [`decode_verified`](crate::decode_verified) instead.
pub fn decode_range(
    reference: &[u8],
    delta: &[u8],
    expected_len: u64,
    range: Range<u64>,
) -> Result<Vec<u8>> {
    decode_range_from(&mut &reference[..], delta, expected_len, range)
}

/// The reference ranges [`decode_range_from`] will read for `range`, in order: the parts
/// the covering windows copy from. For callers that fetch reference bytes asynchronously
/// (ranged GETs) before decoding; the same checks as [`decode_range`] apply.
pub fn range_reads(
    reference_len: u64,
    delta: &[u8],
    expected_len: u64,
    range: Range<u64>,
) -> Result<Vec<Range<u64>>> {
    let mut reads = Vec::new();
    for_covering(reference_len, delta, expected_len, range, |window, _, _| {
        reads.push(window.reference_range());
        Ok(())
    })?;
    Ok(reads)
}

/// [`decode_range`] with the reference read through `reference`: only the ranges
/// [`range_reads`] lists are read.
pub fn decode_range_from<R: ReferenceReader + ?Sized>(
    reference: &mut R,
    delta: &[u8],
    expected_len: u64,
    range: Range<u64>,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity((range.end.saturating_sub(range.start)) as usize);
    let mut buffer = Vec::new();
    let mut segment = Vec::new();
    let wanted = range.clone();
    for_covering(
        reference.len(),
        delta,
        expected_len,
        range,
        |window, bytes, (index, window_start)| {
            let reads = window.reference_range();
            segment.resize((reads.end - reads.start) as usize, 0);
            reference
                .read_at(reads.start, &mut segment)
                .map_err(|source| Error::Reference {
                    offset: reads.start,
                    len: reads.end - reads.start,
                    source,
                })?;
            let mut source = Segment {
                offset: window.copy_offset,
                bytes: &segment,
            };
            buffer.clear();
            pure::decode_window(window, bytes, &mut source, &mut buffer, index)?;
            let window_end = window_start + window.target_len;
            let from = wanted.start.saturating_sub(window_start) as usize;
            let to = (wanted.end.min(window_end) - window_start) as usize;
            out.extend_from_slice(&buffer[from..to]);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Checks `delta` and `range`, then calls `each` with every window covering `range`, its
/// bytes, and its index and target offset.
fn for_covering(
    reference_len: u64,
    delta: &[u8],
    expected_len: u64,
    range: Range<u64>,
    mut each: impl FnMut(&Window, &[u8], (u64, u64)) -> Result<()>,
) -> Result<()> {
    // A delta with secondary compression is expanded whole: its sections decode only in
    // order, each after the same section of every earlier window.
    let delta = &*secondary::plain(delta, reference_len, expected_len)?;
    check_declared_len(reference_len, delta, expected_len)?;
    if range.start > range.end || range.end > expected_len {
        return Err(Error::LengthMismatch {
            expected: expected_len,
            actual: range.end,
        });
    }
    let mut window_start = 0u64;
    for (index, window) in vcdiff::Windows::new(delta, reference_len)?.enumerate() {
        let (window, bytes) = window?;
        let window_end = window_start + window.target_len;
        if window_end > range.start && window_start < range.end {
            if !window.has_checksum() {
                return Err(Error::Unsupported {
                    feature: "range decoding of windows without Adler-32",
                });
            }
            each(&window, bytes, (index as u64, window_start))?;
        }
        if window_end >= range.end {
            break;
        }
        window_start = window_end;
    }
    Ok(())
}
