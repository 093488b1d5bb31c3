//! Rebuilding a container from its payload and recipe: literal and copied bytes in
//! order, deflate streams rebuilt independently (on every core where there are threads).

use std::ops::Range;

use super::error::{Error, Result};
use super::parallel;
use super::recipe::{Recipe, Segment};
use crate::deflate::Method;

/// One deflate stream to rebuild.
pub(super) struct Job<'a> {
    /// Zero-based among the recipe's deflate segments.
    pub(super) index: usize,
    /// Its payload.
    pub(super) plain: &'a [u8],
    /// Its recorded length, when the recipe has it.
    pub(super) deflate_len: Option<u64>,
    pub(super) method: &'a Method,
}

impl Job<'_> {
    /// Whether the stream is a copy from the reference archive.
    pub(super) fn copies_reference(&self) -> bool {
        matches!(self.method, Method::Reference { .. })
    }

    /// Runs the stream's method; `reference` is the archive the payload delta was taken
    /// against, which streams copied from it need.
    pub(super) fn run(&self, reference: Option<&[u8]>) -> Result<Vec<u8>> {
        self.method
            .rebuild(self.plain, self.deflate_len, reference)
            .map_err(|detail| Error::Recreate {
                stream: self.index,
                detail,
            })
    }
}

/// Rebuilds the container from `payload` and `recipe`, each deflate stream given by
/// `stream` (rebuilding it, or, to check a layout, the original bytes).
pub(super) fn assemble(
    payload: &[u8],
    recipe: &Recipe,
    stream: impl Fn(&Job<'_>) -> Result<Vec<u8>> + Sync,
) -> Result<Vec<u8>> {
    let described = recipe.payload_len();
    if described != Some(payload.len() as u64) {
        return Err(Error::PayloadLength {
            expected: described.unwrap_or(u64::MAX),
            actual: payload.len() as u64,
        });
    }
    let (ranges, jobs) = plan(payload, recipe);
    let mut streams = parallel::map(&jobs, stream).into_iter();
    let mut out = Vec::with_capacity(payload.len() / 3);
    for (segment, range) in recipe.segments.iter().zip(ranges) {
        match segment {
            Segment::Literal(bytes) => out.extend_from_slice(bytes),
            Segment::Copy(_) => out.extend_from_slice(&payload[range]),
            // One result per deflate segment, in order.
            Segment::Deflate { .. } => match streams.next() {
                Some(stream) => out.extend_from_slice(&stream?),
                None => unreachable!("one job per deflate segment"),
            },
        }
    }
    Ok(out)
}

/// Each segment's payload range (in range: the lengths add up to the payload's, checked
/// by the caller), and the deflate jobs in order.
fn plan<'a>(payload: &'a [u8], recipe: &'a Recipe) -> (Vec<Range<usize>>, Vec<Job<'a>>) {
    let mut offset = 0usize;
    let mut ranges = Vec::with_capacity(recipe.segments.len());
    let mut jobs = Vec::new();
    for segment in &recipe.segments {
        let len = match segment {
            Segment::Literal(_) => 0,
            Segment::Copy(n) => *n as usize,
            Segment::Deflate { plain_len, .. } => *plain_len as usize,
        };
        let range = offset..offset + len;
        offset += len;
        if let Segment::Deflate {
            deflate_len,
            method,
            ..
        } = segment
        {
            jobs.push(Job {
                index: jobs.len(),
                plain: &payload[range.clone()],
                deflate_len: *deflate_len,
                method,
            });
        }
        ranges.push(range);
    }
    (ranges, jobs)
}
