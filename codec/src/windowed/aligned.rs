//! The cheap part of a windowed chunk: stretches of target that equal the reference at the
//! tracked place become windows of one COPY each, written here; only the edited stretches
//! between them go to the encoder, against a small segment around their place.
//!
//! A chunk is compared block by block ([`BLOCK`] bytes) with the reference at the expected
//! offset. An edited block ends a copy; the drift is then re-found from where the block's
//! last bytes lie in the reference near it (an insert or delete inside the block moves
//! everything after it), and the next block is compared at the new place. A chunk of a
//! backup with a few edits costs comparisons plus the encoding of a few edited blocks.

use std::ops::Range;

use crate::vcdiff::put_varint;

/// The target bytes whose place in the reference is looked up (after a chunk, after an
/// edited block).
pub(super) const PROBE: usize = 64;
/// The unit of comparison.
pub(super) const BLOCK: usize = 64 << 10;
/// How far from its expected place an edited block's end is looked for, each side.
const RESYNC: usize = 1 << 20;

/// A stretch of a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// `target` equals the segment's bytes from `source`.
    Copy { target: Range<usize>, source: usize },
    /// `target` differs; its match is expected around `source` (the segment's offsets where
    /// the stretch was expected to start and where the bytes after it resume).
    Edit {
        target: Range<usize>,
        source: Range<usize>,
    },
}

/// Splits `chunk` into copies and edits against `segment`, the chunk expected to start at
/// segment offset `expected`. The pieces cover the chunk in order.
pub(super) fn split(chunk: &[u8], segment: &[u8], expected: usize) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let (mut t, mut r) = (0, expected);
    while t < chunk.len() {
        let end = (t + BLOCK).min(chunk.len());
        let block = &chunk[t..end];
        if segment.get(r..r + block.len()) == Some(block) {
            match pieces.last_mut() {
                Some(Piece::Copy { target, source }) if *source + target.len() == r => {
                    target.end = end;
                }
                _ => pieces.push(Piece::Copy {
                    target: t..end,
                    source: r,
                }),
            }
            r += block.len();
        } else {
            let resumed = resync(block, segment, r + block.len()).unwrap_or(r + block.len());
            match pieces.last_mut() {
                Some(Piece::Edit { target, source }) => {
                    target.end = end;
                    source.end = resumed;
                }
                _ => pieces.push(Piece::Edit {
                    target: t..end,
                    source: r..resumed,
                }),
            }
            r = resumed;
        }
        t = end;
    }
    pieces
}

/// Where, in `segment`, the bytes after `block` resume: found from the block's last bytes
/// near `expected` (the occurrence nearest it), or `None`.
fn resync(block: &[u8], segment: &[u8], expected: usize) -> Option<usize> {
    let probe = block.get(block.len().checked_sub(PROBE)?..)?;
    if probe.iter().all(|&b| b == probe[0]) {
        return None;
    }
    let from = expected.saturating_sub(RESYNC + PROBE).min(segment.len());
    let to = (expected + RESYNC).min(segment.len());
    memchr::memmem::find_iter(&segment[from..to], probe)
        .map(|at| from + at + PROBE)
        .min_by_key(|&end| end.abs_diff(expected))
}

/// Whether any of a few short probes of `edited` occurs in `segment` outside `near` (the
/// part it was already encoded against): the sign of bytes moved from further away, worth
/// encoding against the whole segment. Densely edited bytes (every word changed, as a
/// fine-tuned tensor) match nowhere, and then the costly whole-segment encode is skipped.
pub(super) fn found_elsewhere(edited: &[u8], segment: &[u8], near: Range<usize>) -> bool {
    const PROBES: usize = 8;
    const LEN: usize = 32;
    if edited.len() < LEN {
        return false;
    }
    let step = (edited.len() - LEN) / PROBES + 1;
    (0..edited.len() - LEN + 1)
        .step_by(step)
        .map(|at| &edited[at..at + LEN])
        .filter(|probe| probe.iter().any(|&b| b != probe[0]))
        .any(|probe| {
            memchr::memmem::find_iter(segment, probe)
                .any(|at| at + LEN <= near.start || at >= near.end)
        })
}

/// Appends a window that copies `target` (the bytes themselves, for the checksum) from
/// reference offset `source`: one COPY instruction, with the target's Adler-32.
pub(super) fn copy_window(out: &mut Vec<u8>, source: u64, target: &[u8]) {
    const VCD_SOURCE: u8 = 0x01;
    const VCD_ADLER32: u8 = 0x04;
    /// COPY, explicit size, mode 0 (VCD_SELF) in RFC 3284's default code table.
    const COPY_SELF: u8 = 19;
    let len = target.len() as u64;
    let mut inst = vec![COPY_SELF];
    put_varint(&mut inst, len);
    let addr = [0u8];
    let mut encoding = Vec::with_capacity(24);
    put_varint(&mut encoding, len);
    encoding.push(0);
    put_varint(&mut encoding, 0);
    put_varint(&mut encoding, inst.len() as u64);
    put_varint(&mut encoding, addr.len() as u64);
    let mut adler = simd_adler32::Adler32::new();
    adler.write(target);
    encoding.extend_from_slice(&adler.finish().to_be_bytes());
    encoding.extend_from_slice(&inst);
    encoding.extend_from_slice(&addr);
    out.push(VCD_SOURCE | VCD_ADLER32);
    put_varint(out, len);
    put_varint(out, source);
    put_varint(out, encoding.len() as u64);
    out.extend_from_slice(&encoding);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn an_unchanged_chunk_is_one_copy() {
        let segment = bytes(1 << 20, 1);
        let chunk = &segment[100_000..100_000 + 300_000];
        assert_eq!(
            split(chunk, &segment, 100_000),
            vec![Piece::Copy {
                target: 0..300_000,
                source: 100_000
            }]
        );
    }

    #[test]
    fn an_insert_is_an_edit_and_the_copy_resumes_after_it() {
        let segment = bytes(1 << 20, 2);
        let mut chunk = segment[..600_000].to_vec();
        chunk.splice(200_000..200_000, bytes(1_000, 3));
        let pieces = split(&chunk, &segment, 0);
        // Copy up to the block holding the insert, the edit, then copies shifted by 1 000.
        assert!(matches!(
            pieces[0],
            Piece::Copy {
                target: Range { start: 0, .. },
                source: 0
            }
        ));
        let Piece::Edit { target, source } = &pieces[1] else {
            panic!("{pieces:?}");
        };
        assert_eq!(target.end - source.end, 1_000, "the drift after the insert");
        assert!(pieces[2..].iter().all(|p| matches!(p, Piece::Copy { .. })));
        let covered: usize = pieces
            .iter()
            .map(|p| match p {
                Piece::Copy { target, .. } | Piece::Edit { target, .. } => target.len(),
            })
            .sum();
        assert_eq!(covered, chunk.len());
    }

    #[test]
    fn only_bytes_found_away_from_their_place_are_worth_a_wide_encode() {
        let segment = bytes(4 << 20, 6);
        // Moved: bytes from 3 MiB in, edited at 1 MiB.
        let moved = &segment[3 << 20..(3 << 20) + 100_000];
        assert!(found_elsewhere(moved, &segment, 900_000..1_300_000));
        // Found only where they were already encoded against: no wider encode.
        assert!(!found_elsewhere(moved, &segment, 3_000_000..3_300_000));
        // Densely edited (the low half of every 32-bit word changed): found nowhere.
        let mut dense = segment[1 << 20..(1 << 20) + 100_000].to_vec();
        for word in dense.chunks_mut(4) {
            word[0] ^= 0xA5;
            word[1] ^= 0x5A;
        }
        assert!(!found_elsewhere(&dense, &segment, 900_000..1_300_000));
        assert!(!found_elsewhere(&dense[..20], &segment, 0..0));
    }

    #[test]
    fn a_chunk_past_the_segment_is_all_edit() {
        let segment = bytes(100_000, 4);
        let chunk = bytes(200_000, 5);
        let pieces = split(&chunk, &segment, 90_000);
        assert_eq!(pieces.len(), 1);
        assert!(matches!(&pieces[0], Piece::Edit { target, .. } if *target == (0..200_000)));
    }
}
