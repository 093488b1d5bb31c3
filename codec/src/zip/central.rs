//! The central directory: one entry per member, the archive's own account of where each
//! member is, how it is compressed and how long it is. Entries are read as the truth;
//! local headers are only checked against them.

use super::bytes::{has_signature, u16_at, u32_at, u64_at};
use super::end::Directory;

const ENTRY_SIGNATURE: [u8; 4] = *b"PK\x01\x02";
/// A central directory entry without name, extra field or comment.
const ENTRY_MIN_LEN: usize = 46;
/// The extra-field block that carries 64-bit sizes and offsets.
const ZIP64_EXTRA_ID: u16 = 0x0001;
/// A 32-bit field with this value is in the zip64 extra block instead.
const SATURATED_32: u32 = u32::MAX;
/// The 16-bit starting-disk field with this value is in the zip64 extra block instead.
const SATURATED_16: u16 = u16::MAX;

/// What the central directory says about one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// General-purpose flags (bit 0: encrypted; bit 3: sizes in a data descriptor).
    pub(super) flags: u16,
    /// Compression method (0 stored, 8 deflate, others kept as they are).
    pub(super) method: u16,
    /// CRC-32 of the uncompressed data.
    pub(super) crc32: u32,
    /// Length of the member's data as stored.
    pub(super) compressed_len: u64,
    /// Length of the member's data once uncompressed.
    pub(super) plain_len: u64,
    /// Length of the file name, which the local header repeats.
    pub(super) name_len: u16,
    /// Offset of the local header, as recorded (before any prefix shift).
    pub(super) local_offset: u64,
}

/// Every entry of `directory`, in directory order; `None` unless exactly
/// `directory.entries` well-formed entries fill it, none of them on another disk. A count
/// the directory has no room for is refused before anything is allocated.
pub(super) fn entries(bytes: &[u8], directory: &Directory) -> Option<Vec<Entry>> {
    if directory.entries.checked_mul(ENTRY_MIN_LEN)? > directory.len {
        return None;
    }
    let end = directory.start.checked_add(directory.len)?;
    let listing = bytes.get(directory.start..end)?;
    let mut entries = Vec::with_capacity(directory.entries);
    let mut pos = 0;
    for _ in 0..directory.entries {
        let (entry, len) = entry(listing, pos)?;
        entries.push(entry);
        pos += len;
    }
    (pos == listing.len()).then_some(entries)
}

/// The entry at `pos` and its length in the directory.
fn entry(listing: &[u8], pos: usize) -> Option<(Entry, usize)> {
    if !has_signature(listing, pos, ENTRY_SIGNATURE) {
        return None;
    }
    let name_len = u16_at(listing, pos + 28)?;
    let extra_len = usize::from(u16_at(listing, pos + 30)?);
    let comment_len = usize::from(u16_at(listing, pos + 32)?);
    let len = ENTRY_MIN_LEN + usize::from(name_len) + extra_len + comment_len;
    let extra_start = pos + ENTRY_MIN_LEN + usize::from(name_len);
    let extra = listing.get(extra_start..extra_start + extra_len)?;
    if listing.len() - pos < len {
        return None;
    }
    let mut zip64 = Zip64Fields {
        extra: zip64_block(extra),
        read: 0,
    };
    let plain_len = zip64.resolve(u32_at(listing, pos + 24)?)?;
    let compressed_len = zip64.resolve(u32_at(listing, pos + 20)?)?;
    let local_offset = zip64.resolve(u32_at(listing, pos + 42)?)?;
    let disk = u16_at(listing, pos + 34)?;
    if disk == SATURATED_16 {
        // The 4-byte disk number follows the 8-byte fields in the zip64 block.
        let at = zip64.read;
        if zip64.extra.and_then(|b| u32_at(b, at))? != 0 {
            return None;
        }
    } else if disk != 0 {
        return None;
    }
    let entry = Entry {
        flags: u16_at(listing, pos + 8)?,
        method: u16_at(listing, pos + 10)?,
        crc32: u32_at(listing, pos + 16)?,
        compressed_len,
        plain_len,
        name_len,
        local_offset,
    };
    Some((entry, len))
}

/// The data of the zip64 block in an extra field, if there is one. Extra fields are read
/// leniently (a malformed tail ends the search) because writers pad them in odd ways and
/// only this one block matters.
pub(super) fn zip64_block(extra: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    while let (Some(id), Some(size)) = (u16_at(extra, pos), u16_at(extra, pos + 2)) {
        let data = extra.get(pos + 4..pos + 4 + usize::from(size))?;
        if id == ZIP64_EXTRA_ID {
            return Some(data);
        }
        pos += 4 + usize::from(size);
    }
    None
}

/// The 64-bit values of an entry's zip64 block, taken in order for each saturated field.
struct Zip64Fields<'a> {
    extra: Option<&'a [u8]>,
    read: usize,
}

impl Zip64Fields<'_> {
    /// `value` itself, or, when saturated, the next 64-bit value of the block (`None`
    /// when the block is missing or too short).
    fn resolve(&mut self, value: u32) -> Option<u64> {
        if value != SATURATED_32 {
            return Some(value.into());
        }
        let wide = u64_at(self.extra?, self.read)?;
        self.read += 8;
        Some(wide)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip64_block_is_found_among_others() {
        let extra = [
            0x55, 0x54, 1, 0, 9, // a 1-byte "UT" block
            1, 0, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, // the zip64 block
        ];
        assert_eq!(zip64_block(&extra), Some(&extra[9..]));
        assert_eq!(zip64_block(&extra[..5]), None);
        assert_eq!(
            zip64_block(&[1, 0, 9, 0, 1]),
            None,
            "block longer than the field"
        );
    }

    #[test]
    fn saturated_fields_need_the_block() {
        let block = 7u64.to_le_bytes();
        let mut with = Zip64Fields {
            extra: Some(&block),
            read: 0,
        };
        assert_eq!(with.resolve(5), Some(5));
        assert_eq!(with.resolve(u32::MAX), Some(7));
        assert_eq!(with.resolve(u32::MAX), None, "only one value in the block");
        let mut without = Zip64Fields {
            extra: None,
            read: 0,
        };
        assert_eq!(without.resolve(u32::MAX), None);
    }
}
