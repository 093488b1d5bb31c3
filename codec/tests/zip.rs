//! `zip::regions` over archives written by real tools (Python `zipfile`, Info-ZIP `zip`,
//! `jar`, `bsdtar`; see `fixtures/zip/generate.sh`): the regions cover each file exactly
//! and every deflated region inflates, ending exactly at its region's end, to the length
//! and CRC-32 its headers claim. Damaged and hostile archives give `None` or regions that
//! still cover the file, never a panic.
#![cfg(feature = "zip")]

use std::path::{Path, PathBuf};

use deltaglider_codec::zip::{Region, regions};
use flate2::{Decompress, FlushDecompress, Status};
use proptest::prelude::*;

/// Every fixture and how many non-empty, unencrypted deflated members it holds.
const FIXTURES: &[(&str, usize)] = &[
    // Deflated, stored, empty, a member comment, a directory and an archive comment.
    ("python.zip", 3),
    // The same with zip64 extra blocks in every local header.
    ("python-zip64.zip", 3),
    // zipfile's thresholds lowered: 0xFFFFFFFF sizes and offsets in the central directory,
    // their values in its zip64 blocks, zip64 end records.
    ("python-zip64-limits.zip", 3),
    // Written to a pipe: data descriptors with signatures, 32- and 64-bit sizes.
    ("python-streamed.zip", 3),
    ("python-streamed-zip64.zip", 3),
    // bzip2 and LZMA members stay raw.
    ("python-methods.zip", 1),
    ("infozip.zip", 1),
    ("infozip-streamed.zip", 2),
    ("infozip-stdin.zip", 1),
    // Traditional encryption: the deflated member is encrypted, so raw.
    ("infozip-encrypted.zip", 0),
    // A shell stub before the archive, offsets adjusted by `zip -A`.
    ("infozip-sfx-adjusted.zip", 1),
    // Data descriptors, a deflated empty directory entry.
    ("tool.jar", 4),
    // Zip64 end records (forced), and zero padding after the end record.
    ("bsdtar-zip64.zip", 3),
    ("bsdtar-piped.zip", 3),
];

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zip")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Panics unless `regions` are non-empty, contiguous, in order and cover `len` bytes, with
/// no two raw regions side by side.
#[track_caller]
fn assert_covers(regions: &[Region], len: usize) {
    let mut pos = 0;
    let mut last_raw = false;
    for region in regions {
        let range = region.range();
        assert_eq!(range.start, pos, "gap or overlap in {regions:?}");
        assert!(range.end > range.start, "empty region in {regions:?}");
        let raw = matches!(region, Region::Raw(_));
        assert!(!(raw && last_raw), "unmerged raw regions in {regions:?}");
        last_raw = raw;
        pos = range.end;
    }
    assert_eq!(pos, len, "regions end before the file does");
}

/// Inflates `stream`, which must be exactly one complete deflate stream.
#[track_caller]
fn inflate_exact(stream: &[u8], plain_len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(plain_len).expect("small") + 1);
    let mut inflater = Decompress::new(false);
    let status = inflater
        .decompress_vec(stream, &mut out, FlushDecompress::Finish)
        .expect("a valid deflate stream");
    assert_eq!(status, Status::StreamEnd, "the stream ends");
    assert_eq!(
        inflater.total_in(),
        stream.len() as u64,
        "and ends at the region's end"
    );
    out
}

/// Checks `zip` as the module docs promise and returns how many deflated regions it has.
#[track_caller]
fn check(zip: &[u8]) -> usize {
    let regions = regions(zip).expect("a zip archive the parser understands");
    assert_covers(&regions, zip.len());
    let mut deflated = 0;
    for region in &regions {
        if let Region::Deflated {
            range,
            plain_len,
            crc32,
        } = region
        {
            let plain = inflate_exact(&zip[range.clone()], *plain_len);
            assert_eq!(plain.len() as u64, *plain_len, "claimed length");
            assert_eq!(crc32fast::hash(&plain), *crc32, "claimed CRC-32");
            deflated += 1;
        }
    }
    deflated
}

#[test]
fn archives_from_real_tools_are_cut_exactly() {
    for &(name, members) in FIXTURES {
        assert_eq!(check(&fixture(name)), members, "{name}");
    }
}

#[test]
fn bytes_prepended_without_adjusting_offsets_are_a_raw_region() {
    let stub = b"MZ self-extractor stub ".repeat(40);
    for &(name, members) in FIXTURES {
        let zip = fixture(name);
        let plain = regions(&zip).expect("fixture parses");
        let prefixed = [&stub[..], &zip].concat();
        assert_eq!(check(&prefixed), members, "{name}");
        let shifted = regions(&prefixed).expect("checked");
        assert_eq!(shifted.len(), plain.len(), "{name}: same regions, moved");
        for (a, b) in plain.iter().zip(&shifted) {
            assert_eq!(b.range().end, a.range().end + stub.len(), "{name}");
        }
    }
}

/// The classic end record of `zip` (fixtures without zip64 and comments): its position.
fn eocd(zip: &[u8]) -> usize {
    let pos = zip.len() - 22;
    assert_eq!(&zip[pos..pos + 4], b"PK\x05\x06");
    pos
}

fn set_u16(zip: &mut [u8], at: usize, value: u16) {
    zip[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn set_u32(zip: &mut [u8], at: usize, value: u32) {
    zip[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn multi_disk_archives_are_refused() {
    let zip = fixture("infozip.zip");
    let end = eocd(&zip);
    for field in [4, 6] {
        let mut other = zip.clone();
        set_u16(&mut other, end + field, 1);
        assert_eq!(regions(&other), None, "disk field at +{field}");
    }
    let mut split = zip.clone();
    set_u16(&mut split, end + 8, 1);
    assert_eq!(
        regions(&split),
        None,
        "entries on this disk differ from the total"
    );
}

#[test]
fn more_entries_than_the_directory_holds_are_refused() {
    let mut zip = fixture("infozip.zip");
    let end = eocd(&zip);
    set_u16(&mut zip, end + 8, u16::MAX);
    set_u16(&mut zip, end + 10, u16::MAX);
    assert_eq!(regions(&zip), None);
}

/// Where the central directory entries of `zip` (no zip64, no comment) lie.
fn directory_entries(zip: &[u8]) -> Vec<std::ops::Range<usize>> {
    let end = eocd(zip);
    let directory_len = u32::from_le_bytes(zip[end + 12..end + 16].try_into().expect("4"));
    let mut pos = end - directory_len as usize;
    let mut entries = Vec::new();
    while pos < end {
        let field = |at: usize| usize::from(u16::from_le_bytes([zip[pos + at], zip[pos + at + 1]]));
        let len = 46 + field(28) + field(30) + field(32);
        entries.push(pos..pos + len);
        pos += len;
    }
    entries
}

/// `zip` with its central directory replaced by `entries` (ranges of `zip`), counts and
/// length fixed up.
fn with_directory(zip: &[u8], entries: &[std::ops::Range<usize>]) -> Vec<u8> {
    let old = directory_entries(zip);
    let start = old.first().map_or(eocd(zip), |r| r.start);
    let mut out = zip[..start].to_vec();
    for entry in entries {
        out.extend_from_slice(&zip[entry.clone()]);
    }
    let directory_len = out.len() - start;
    out.extend_from_slice(&zip[eocd(zip)..]);
    let end = eocd(&out);
    let count = u16::try_from(entries.len()).expect("few entries");
    set_u16(&mut out, end + 8, count);
    set_u16(&mut out, end + 10, count);
    set_u32(
        &mut out,
        end + 12,
        u32::try_from(directory_len).expect("small"),
    );
    out
}

/// Regions come in file order whatever the order of the central directory.
#[test]
fn directory_order_does_not_matter() {
    let zip = fixture("infozip.zip");
    let mut entries = directory_entries(&zip);
    assert!(entries.len() > 2);
    entries.reverse();
    let reversed = with_directory(&zip, &entries);
    assert_eq!(reversed.len(), zip.len());
    assert_ne!(reversed, zip);
    assert_eq!(check(&reversed), check(&zip));
    // Same lengths, so the same regions: the directory is inside the last raw one.
    assert_eq!(regions(&reversed), regions(&zip));
}

/// Two central directory entries naming the same local header (the trick of overlapping
/// zip bombs): the members overlap.
#[test]
fn overlapping_members_are_refused() {
    let zip = fixture("infozip.zip");
    let mut entries = directory_entries(&zip);
    entries.insert(1, entries[0].clone());
    assert!(regions(&with_directory(&zip, &directory_entries(&zip))).is_some());
    assert_eq!(regions(&with_directory(&zip, &entries)), None);
}

#[test]
fn a_local_header_that_disagrees_is_refused() {
    let zip = fixture("python.zip");
    let mut bad_signature = zip.clone();
    bad_signature[0] = b'X';
    assert_eq!(regions(&bad_signature), None);
    let mut bad_name = zip;
    bad_name[26] ^= 1;
    assert_eq!(regions(&bad_name), None);
}

#[test]
fn a_data_descriptor_that_disagrees_is_refused() {
    let zip = fixture("python-streamed.zip");
    let at = zip
        .windows(4)
        .position(|w| w == b"PK\x07\x08")
        .expect("a descriptor");
    let mut bad_crc = zip;
    bad_crc[at + 4] ^= 1;
    assert_eq!(regions(&bad_crc), None);
}

#[test]
fn short_and_foreign_inputs_are_refused() {
    for input in [
        &b""[..],
        b"PK",
        b"PK\x05\x06",
        &[0u8; 100],
        b"PK\x03\x04 a local header",
    ] {
        assert_eq!(regions(input), None, "{input:?}");
    }
}

/// Real wheels (16 MB each, hundreds of members): every one is understood. Ignored by
/// default because CI machines may not have the corpus
/// (`DELTAGLIDER_CORPUS`, default `/work/corpus`); run with
/// `cargo test --release -p deltaglider-codec --test zip -- --ignored`.
#[test]
#[ignore = "needs the corpus at /work/corpus (DELTAGLIDER_CORPUS)"]
fn real_wheels_are_cut_exactly() {
    let root = std::env::var_os("DELTAGLIDER_CORPUS").map_or("/work/corpus".into(), PathBuf::from);
    let dir = root.join("wheels");
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("read corpus dir").path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    wheels.sort();
    assert!(!wheels.is_empty(), "no wheels in {}", dir.display());
    for wheel in wheels {
        let zip = std::fs::read(&wheel).expect("read wheel");
        let started = std::time::Instant::now();
        let cut = regions(&zip).expect("a wheel is understood");
        let elapsed = started.elapsed();
        let deflated = check(&zip);
        eprintln!(
            "{}: {} regions, {deflated} deflated, cut in {elapsed:?}",
            wheel.display(),
            cut.len()
        );
        assert!(deflated > 0);
    }
}

/// A damaged archive: `ops` applied to `zip` in turn.
fn damage(zip: &[u8], ops: &[(u8, usize, u8)]) -> Vec<u8> {
    let mut out = zip.to_vec();
    for &(kind, at, byte) in ops {
        if out.is_empty() {
            break;
        }
        let at = at % out.len();
        match kind % 4 {
            0 => out[at] ^= byte | 1,
            1 => out.truncate(at),
            2 => out.insert(at, byte),
            _ => {
                out.remove(at);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Truncated, flipped, grown and shrunk archives: never a panic, and whatever comes
    /// back still covers the file exactly.
    #[test]
    fn damaged_archives_are_refused_or_still_covered(
        which in 0..FIXTURES.len(),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6),
    ) {
        let zip = damage(&fixture(FIXTURES[which].0), &ops);
        if let Some(cut) = regions(&zip) {
            assert_covers(&cut, zip.len());
        }
    }

    /// Damage aimed at the end records and central directory, where the lengths are.
    #[test]
    fn damaged_directories_are_refused_or_still_covered(
        which in 0..FIXTURES.len(),
        back in 1usize..400,
        byte in any::<u8>(),
    ) {
        let mut zip = fixture(FIXTURES[which].0);
        let at = zip.len().saturating_sub(back);
        zip[at] = byte;
        if let Some(cut) = regions(&zip) {
            assert_covers(&cut, zip.len());
        }
    }
}

/// Every archive listed, one path a line, in the file `DELTAGLIDER_ZIP_SWEEP` names (for
/// example `find / -name '*.jar' -o -name '*.whl' ...`): accepted ones must be cut exactly;
/// refused ones are listed (a measurement: some files named `.zip` are not archives, or
/// are damaged on purpose as test data). Run with
/// `DELTAGLIDER_ZIP_SWEEP=list cargo test --release -p deltaglider-codec --test zip -- --ignored sweep --nocapture`.
#[test]
#[ignore = "needs a list of archives (DELTAGLIDER_ZIP_SWEEP)"]
fn sweep_listed_archives() {
    let Ok(list) = std::env::var("DELTAGLIDER_ZIP_SWEEP") else {
        eprintln!("DELTAGLIDER_ZIP_SWEEP is not set: nothing to sweep");
        return;
    };
    let list = std::fs::read_to_string(list).expect("read the list");
    let (mut accepted, mut refused) = (0, 0);
    for path in list.lines().filter(|l| !l.is_empty()) {
        let Ok(zip) = std::fs::read(path) else {
            continue;
        };
        if regions(&zip).is_some() {
            check(&zip);
            accepted += 1;
        } else {
            eprintln!("refused: {path}");
            refused += 1;
        }
    }
    eprintln!("{accepted} accepted, {refused} refused");
}
