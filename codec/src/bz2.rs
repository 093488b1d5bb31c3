//! bzip2 streams: recognising one, decompressing it, and re-running the compressor that
//! wrote it.
//!
//! The compressor is libbzip2 1.0.8's algorithm as `libbz2-rs-sys` 0.2.7 implements it
//! (pure Rust, wasm32 included, pinned in `codec/Cargo.toml`): the same bytes as the
//! `bzip2` command, Python's `bz2` module and `tar cjf`, which all call libbzip2 with the
//! default work factor. Its output depends on the input and the block size only (blocks
//! are cut by input count, not by how the input is fed), so the block size in a stream's
//! header is the whole of its parameters.

use bzip2::{Action, Compress, Compression, Decompress, Status};

use crate::coder::{self, Coder};

/// A stream's first three bytes; the fourth is the block size, `'1'`–`'9'` (×100 kB).
const MAGIC: &[u8; 3] = b"BZh";
/// What follows the header: a block's magic (the BCD digits of π) or the end-of-stream
/// magic (of √π) when the stream is empty.
const BLOCK_MAGIC: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const END_MAGIC: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
/// libbzip2's default work factor (how long the main sort tries before its fallback),
/// what the tools above use.
const WORK_FACTOR: u32 = 30;

/// The block size (1–9) of the bzip2 stream `data` starts with, if it starts one.
pub(crate) fn block_size(data: &[u8]) -> Option<u8> {
    let digit = *data.get(MAGIC.len())?;
    let next = data.get(4..10)?;
    (data.starts_with(MAGIC)
        && (b'1'..=b'9').contains(&digit)
        && (next == BLOCK_MAGIC || next == END_MAGIC))
        .then(|| digit - b'0')
}

/// Decompresses the bzip2 stream `data` starts with onto `out`, which may grow to at most
/// `max` bytes; returns the stream's compressed length, or `None` when it is corrupt,
/// truncated, or decompresses past `max`.
pub(crate) fn inflate_stream(data: &[u8], out: &mut Vec<u8>, max: usize) -> Option<usize> {
    coder::decompress(&mut Decompress::new(false), data, out, max)
}

/// Runs the compressor over `plain`, handing each piece of output to `sink` until it
/// returns `false`.
pub(crate) fn run(block_size: u8, plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
    let mut state = Compress::new(Compression::new(u32::from(block_size)), WORK_FACTOR);
    coder::compress(&mut state, plain, sink);
}

impl Coder for Compress {
    fn step(&mut self, input: &[u8], output: &mut [u8], finish: bool) -> Result<bool, ()> {
        let action = if finish { Action::Finish } else { Action::Run };
        let status = self.compress(input, output, action).map_err(drop)?;
        Ok(status == Status::StreamEnd)
    }

    fn total_in(&self) -> u64 {
        Compress::total_in(self)
    }

    fn total_out(&self) -> u64 {
        Compress::total_out(self)
    }
}

impl Coder for Decompress {
    fn step(&mut self, input: &[u8], output: &mut [u8], _finish: bool) -> Result<bool, ()> {
        let status = self.decompress(input, output).map_err(drop)?;
        Ok(status == Status::StreamEnd)
    }

    fn total_in(&self) -> u64 {
        Decompress::total_in(self)
    }

    fn total_out(&self) -> u64 {
        Decompress::total_out(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(block_size: u8, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        run(block_size, plain, &mut |bytes| {
            out.extend_from_slice(bytes);
            true
        });
        out
    }

    fn sample() -> Vec<u8> {
        (0..400_000u32)
            .flat_map(|i| format!("line {} of {}\n", i % 977, i / 3).into_bytes())
            .collect()
    }

    #[test]
    fn round_trips_and_reports_the_stream_length() {
        let plain = sample();
        for level in [1u8, 9] {
            let mut bz = compress(level, &plain);
            let len = bz.len();
            assert_eq!(block_size(&bz), Some(level));
            bz.extend_from_slice(b"after");
            let mut out = b"prefix".to_vec();
            assert_eq!(inflate_stream(&bz, &mut out, usize::MAX), Some(len));
            assert_eq!(&out[6..], &plain[..]);
        }
    }

    #[test]
    fn empty_input_is_a_stream_too() {
        let bz = compress(9, b"");
        assert_eq!(block_size(&bz), Some(9));
        let mut out = Vec::new();
        assert_eq!(inflate_stream(&bz, &mut out, 0), Some(bz.len()));
        assert!(out.is_empty());
    }

    #[test]
    fn refuses_truncated_corrupt_and_oversized_streams() {
        let plain = sample();
        let bz = compress(9, &plain);
        let mut out = Vec::new();
        assert_eq!(
            inflate_stream(&bz[..bz.len() - 1], &mut out, usize::MAX),
            None
        );
        let mut bad = bz.clone();
        bad[bz.len() / 2] ^= 0x10;
        assert_eq!(inflate_stream(&bad, &mut Vec::new(), usize::MAX), None);
        assert_eq!(inflate_stream(&bz, &mut Vec::new(), plain.len() - 1), None);
        assert_eq!(
            inflate_stream(&bz, &mut Vec::new(), plain.len()),
            Some(bz.len())
        );
    }

    #[test]
    fn recognises_only_stream_starts() {
        assert_eq!(block_size(b"BZh9"), None);
        assert_eq!(block_size(b"BZh0\x31\x41\x59\x26\x53\x59"), None);
        // Any byte in the digit's place, also below `'0'` (a fuzzing find).
        assert_eq!(block_size(b"BZh\x00\x31\x41\x59\x26\x53\x59"), None);
        assert_eq!(block_size(b"\x01\xd8\x8b\x08\0\0\0\0\0\x02"), None);
        assert_eq!(block_size(b"BZh5\x31\x41\x59\x26\x53\x58"), None);
        assert_eq!(block_size(b"BZh5\x31\x41\x59\x26\x53\x59"), Some(5));
    }

    #[test]
    fn stopping_the_sink_stops_the_compressor() {
        let plain = sample();
        let mut pieces = 0;
        run(1, &plain, &mut |_| {
            pieces += 1;
            false
        });
        assert_eq!(pieces, 1);
    }
}
