//! A member's bytes in the file: its local header, its data and its optional data
//! descriptor, located from its central directory entry and checked against it.

use std::ops::Range;

use super::bytes::{has_signature, offset, u16_at, u32_at, u64_at};
use super::central::{Entry, zip64_block};

const HEADER_SIGNATURE: [u8; 4] = *b"PK\x03\x04";
/// A local header without name or extra field.
const HEADER_MIN_LEN: usize = 30;
const DESCRIPTOR_SIGNATURE: [u8; 4] = *b"PK\x07\x08";
/// General-purpose flag: traditional or strong encryption.
const FLAG_ENCRYPTED: u16 = 1 << 0;
/// General-purpose flag: sizes and CRC follow the data in a data descriptor.
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const METHOD_DEFLATE: u16 = 8;

/// Where one member's pieces lie in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member {
    /// First byte of the local header.
    pub(super) start: usize,
    /// The member's data as stored.
    pub(super) data: Range<usize>,
    /// One past the last byte of the member (its data descriptor included).
    pub(super) end: usize,
    /// What the headers claim the data inflates to, when it is a deflate stream.
    pub(super) deflate: Option<Inflated>,
}

/// The uncompressed length and CRC-32 the headers claim for a deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Inflated {
    pub(super) plain_len: u64,
    pub(super) crc32: u32,
}

/// The member `entry` describes, its recorded offsets moved by `shift`; `None` when its
/// local header or data descriptor is missing, disagrees with the entry, or runs past the
/// end of `bytes`.
pub(super) fn member(bytes: &[u8], entry: &Entry, shift: usize) -> Option<Member> {
    let start = offset(shift, entry.local_offset)?;
    if !has_signature(bytes, start, HEADER_SIGNATURE)
        || u16_at(bytes, start + 26)? != entry.name_len
    {
        return None;
    }
    let extra_len = usize::from(u16_at(bytes, start + 28)?);
    let extra_start = start + HEADER_MIN_LEN + usize::from(entry.name_len);
    let extra = bytes.get(extra_start..extra_start + extra_len)?;
    let data_start = extra_start + extra_len;
    let data_end = offset(data_start, entry.compressed_len)?;
    if data_end > bytes.len() {
        return None;
    }
    let end = if entry.flags & FLAG_DESCRIPTOR == 0 {
        data_end
    } else {
        data_end + descriptor_len(bytes, data_end, entry, zip64_block(extra).is_some())?
    };
    let deflate = (entry.method == METHOD_DEFLATE
        && entry.flags & FLAG_ENCRYPTED == 0
        && data_end > data_start)
        .then_some(Inflated {
            plain_len: entry.plain_len,
            crc32: entry.crc32,
        });
    Some(Member {
        start,
        data: data_start..data_end,
        end,
        deflate,
    })
}

/// The length of the data descriptor at `at`: CRC-32 and both sizes, in 4 or 8 bytes each,
/// optionally after a signature. Its values must match the entry; 8-byte sizes are tried
/// first when the local header has a zip64 block, as writers then use them.
fn descriptor_len(bytes: &[u8], at: usize, entry: &Entry, zip64: bool) -> Option<usize> {
    let signed = has_signature(bytes, at, DESCRIPTOR_SIGNATURE);
    let widths: [usize; 2] = if zip64 { [8, 4] } else { [4, 8] };
    // With the signature first: a CRC-32 equal to the signature is one in four billion,
    // and the values must match besides.
    let skips: &[usize] = if signed { &[4, 0] } else { &[0] };
    skips.iter().find_map(|&skip| {
        widths.iter().find_map(|&width| {
            let values = at + skip;
            let sizes_match = if width == 8 {
                u64_at(bytes, values + 4)? == entry.compressed_len
                    && u64_at(bytes, values + 12)? == entry.plain_len
            } else {
                u64::from(u32_at(bytes, values + 4)?) == entry.compressed_len
                    && u64::from(u32_at(bytes, values + 8)?) == entry.plain_len
            };
            (u32_at(bytes, values)? == entry.crc32 && sizes_match).then_some(skip + 4 + 2 * width)
        })
    })
}
