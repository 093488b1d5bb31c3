//! The end of the archive: the end-of-central-directory record (and its zip64 form), which
//! says where the central directory is and how many entries it holds.

use super::bytes::{has_signature, offset, u16_at, u32_at, u64_at};

const EOCD_SIGNATURE: [u8; 4] = *b"PK\x05\x06";
const EOCD_LEN: usize = 22;
/// The comment length is a `u16`, so the record starts at most this far before the end.
const MAX_COMMENT: usize = u16::MAX as usize;
const LOCATOR_SIGNATURE: [u8; 4] = *b"PK\x06\x07";
const LOCATOR_LEN: usize = 20;
const ZIP64_EOCD_SIGNATURE: [u8; 4] = *b"PK\x06\x06";
/// A zip64 end record without extensible data: signature, 8-byte size, then 44 bytes.
const ZIP64_EOCD_MIN_LEN: usize = 56;
/// The zip64 record's size field counts the bytes after itself.
const ZIP64_SIZE_FIELD_END: usize = 12;

/// Where the central directory lies, as read from the end records and checked against
/// the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Directory {
    /// File position of the central directory's first byte.
    pub(super) start: usize,
    /// Its length in bytes.
    pub(super) len: usize,
    /// How many entries it claims to hold (checked against `len` before anything is
    /// allocated for them).
    pub(super) entries: usize,
    /// What to add to every offset the archive records: the length of bytes prepended to
    /// an archive whose offsets were not adjusted for them (a self-extractor stub written
    /// by `cat`); zero for ordinary archives and for adjusted ones (`zip -A`).
    pub(super) shift: usize,
}

/// The fields the classic and zip64 end records share.
struct EndFields {
    disk: u32,
    directory_disk: u32,
    disk_entries: u64,
    entries: u64,
    directory_len: u64,
    directory_offset: u64,
}

/// Reads the end records of `bytes`; `None` when there are none, they contradict the
/// file, or the archive spans several disks.
pub(super) fn find(bytes: &[u8]) -> Option<Directory> {
    let eocd = find_eocd(bytes)?;
    let (fields, directory_end, zip64_shift) = match eocd.checked_sub(LOCATOR_LEN) {
        Some(locator) if has_signature(bytes, locator, LOCATOR_SIGNATURE) => {
            let (record, shift) = find_zip64_record(bytes, locator)?;
            (zip64_fields(bytes, record)?, record, Some(shift))
        }
        _ => (classic_fields(bytes, eocd)?, eocd, None),
    };
    if fields.disk != 0 || fields.directory_disk != 0 || fields.disk_entries != fields.entries {
        return None;
    }
    let len = usize::try_from(fields.directory_len).ok()?;
    let start = directory_end.checked_sub(len)?;
    let shift = start.checked_sub(usize::try_from(fields.directory_offset).ok()?)?;
    if zip64_shift.is_some_and(|s| s != shift) {
        return None;
    }
    Some(Directory {
        start,
        len,
        entries: usize::try_from(fields.entries).ok()?,
        shift,
    })
}

/// The position of the end-of-central-directory record: the last signature whose comment
/// reaches exactly to the end of the file, else the last whose comment fits in it (some
/// writers pad their output, `bsdtar` to 10 KiB blocks when writing to a pipe; the padding
/// becomes a raw region).
fn find_eocd(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(MAX_COMMENT);
    let comment_room = |pos: usize| bytes.len() - pos - EOCD_LEN;
    let comment_len = |pos: usize| {
        has_signature(bytes, pos, EOCD_SIGNATURE)
            .then(|| u16_at(bytes, pos + 20).map(usize::from))
            .flatten()
    };
    (first..=last)
        .rev()
        .find(|&pos| comment_len(pos) == Some(comment_room(pos)))
        .or_else(|| {
            (first..=last)
                .rev()
                .find(|&pos| comment_len(pos).is_some_and(|len| len <= comment_room(pos)))
        })
}

fn classic_fields(bytes: &[u8], eocd: usize) -> Option<EndFields> {
    Some(EndFields {
        disk: u16_at(bytes, eocd + 4)?.into(),
        directory_disk: u16_at(bytes, eocd + 6)?.into(),
        disk_entries: u16_at(bytes, eocd + 8)?.into(),
        entries: u16_at(bytes, eocd + 10)?.into(),
        directory_len: u32_at(bytes, eocd + 12)?.into(),
        directory_offset: u32_at(bytes, eocd + 16)?.into(),
    })
}

fn zip64_fields(bytes: &[u8], record: usize) -> Option<EndFields> {
    Some(EndFields {
        disk: u32_at(bytes, record + 16)?,
        directory_disk: u32_at(bytes, record + 20)?,
        disk_entries: u64_at(bytes, record + 24)?,
        entries: u64_at(bytes, record + 32)?,
        directory_len: u64_at(bytes, record + 40)?,
        directory_offset: u64_at(bytes, record + 48)?,
    })
}

/// The zip64 end record the locator at `locator` points to, and how far it lies from
/// where the locator says (bytes prepended without adjusting offsets). The record must
/// end exactly at the locator: first where the locator says, else (prepended bytes) where
/// a record without extensible data would start.
fn find_zip64_record(bytes: &[u8], locator: usize) -> Option<(usize, usize)> {
    let record_disk = u32_at(bytes, locator + 4)?;
    let recorded = usize::try_from(u64_at(bytes, locator + 8)?).ok()?;
    let disks = u32_at(bytes, locator + 16)?;
    if record_disk != 0 || disks > 1 {
        return None;
    }
    let ends_at_locator = |record: usize| {
        has_signature(bytes, record, ZIP64_EOCD_SIGNATURE)
            && u64_at(bytes, record + 4)
                .and_then(|size| offset(record + ZIP64_SIZE_FIELD_END, size))
                == Some(locator)
            && locator - record >= ZIP64_EOCD_MIN_LEN
    };
    let record = [Some(recorded), locator.checked_sub(ZIP64_EOCD_MIN_LEN)]
        .into_iter()
        .flatten()
        .find(|&r| r < locator && ends_at_locator(r))?;
    Some((record, record.checked_sub(recorded)?))
}
