//! The regions a zip file is cut into, and the builder that lays them out in file order.

use std::ops::Range;

use super::local::Member;

/// A run of bytes of a zip file, either kept as it is or a deflate stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    /// Bytes to keep verbatim: headers, data descriptors, stored or encrypted or otherwise
    /// compressed members' data, the central directory, the end records and comment, and
    /// any bytes before, between or after members.
    Raw(Range<usize>),
    /// The compressed data of a deflated member.
    Deflated {
        /// Where the deflate stream lies in the file.
        range: Range<usize>,
        /// The uncompressed length the archive claims (not checked here).
        plain_len: u64,
        /// The CRC-32 of the uncompressed data the archive claims (not checked here).
        crc32: u32,
    },
}

impl Region {
    /// The bytes of the file this region covers.
    pub fn range(&self) -> &Range<usize> {
        match self {
            Self::Raw(range) | Self::Deflated { range, .. } => range,
        }
    }
}

/// The regions of a file of `len` bytes whose members are `members` and whose central
/// directory starts at `directory_start`: `None` when members overlap or reach into the
/// directory.
pub(super) fn lay_out(
    len: usize,
    mut members: Vec<Member>,
    directory_start: usize,
) -> Option<Vec<Region>> {
    members.sort_unstable_by_key(|m| m.start);
    let mut regions = Regions(Vec::with_capacity(2 * members.len() + 1));
    let mut pos = 0;
    for member in members {
        if member.start < pos {
            return None;
        }
        if let Some(inflated) = member.deflate {
            regions.raw(pos..member.data.start);
            regions.0.push(Region::Deflated {
                range: member.data.clone(),
                plain_len: inflated.plain_len,
                crc32: inflated.crc32,
            });
            pos = member.data.end;
        }
        regions.raw(pos..member.end);
        pos = member.end;
    }
    if pos > directory_start {
        return None;
    }
    regions.raw(pos..len);
    Some(regions.0)
}

/// Regions in file order, raw runs merged with their raw neighbours.
struct Regions(Vec<Region>);

impl Regions {
    fn raw(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        if let Some(Region::Raw(last)) = self.0.last_mut()
            && last.end == range.start
        {
            last.end = range.end;
            return;
        }
        self.0.push(Region::Raw(range));
    }
}
