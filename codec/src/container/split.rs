//! A container cut into segments, before its recipe is written.

use std::ops::Range;

use super::recipe::Segment;

/// The payload, the segments that rebuild the container from it, and where in the
/// container each deflate segment's original stream lies (in segment order), so the
/// layout can be checked without running the encoders again.
#[derive(Debug, Default)]
pub(super) struct Split {
    pub(super) payload: Vec<u8>,
    pub(super) segments: Vec<Segment>,
    pub(super) streams: Vec<Range<usize>>,
}
