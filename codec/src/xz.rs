//! xz streams: recognising one, decompressing it, and re-running the compressor that
//! wrote it.
//!
//! The compressor is liblzma's (XZ Utils) as the `xz-core` crate implements it: a
//! translation of XZ Utils 5.8's C into Rust (pure Rust, wasm32 included, pinned in
//! `codec/Cargo.toml`). Its single-threaded stream encoder, a preset (0–9, optionally
//! "extreme") and an integrity check give the bytes of single-threaded `xz -N` (`-T1`,
//! the default of XZ Utils 5.4, tested), Python's `lzma` module and `tar cJf`. The
//! multi-threaded encoder (`xz -T0`/`-T2`) writes sizes into its block headers and cuts
//! large inputs into several blocks: those files are not reproduced (stored whole).

use std::panic::{AssertUnwindSafe, catch_unwind};

use xz::stream::{Action, Check, Status, Stream};

use crate::coder::{self, Coder};

/// A stream's first six bytes.
const MAGIC: &[u8; 6] = b"\xFD7zXZ\x00";
/// Stream header: magic, two flag bytes, CRC-32.
const HEADER_LEN: usize = 12;
/// liblzma's flag for a preset's "extreme" variant (`xz -e`).
const EXTREME: u32 = 0x8000_0000;
/// The LZMA2 filter's ID in a block header.
const LZMA2: u8 = 0x21;
/// Each preset's dictionary, as the LZMA2 property byte a block header records.
const PRESET_DICT: [u8; 10] = [12, 16, 18, 20, 20, 22, 22, 24, 26, 28];
/// Each preset's encoder memory in MiB (`xz --help` and its manual; "extreme" the same).
const PRESET_ENCODER_MIB: [u64; 10] = [3, 9, 17, 32, 48, 94, 94, 186, 370, 674];
/// Most memory the decoder may use: enough for any preset's dictionary (64 MiB at
/// `-9`), not for a hostile header's 1.5 GiB.
const DECODER_MEMORY: u64 = 256 << 20;

/// An xz encoder's settings: what `xz -<preset>[e] -C <check>` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Settings {
    /// 0–9.
    pub(crate) preset: u8,
    /// `xz -e`.
    pub(crate) extreme: bool,
    /// The stream's integrity check, as its header records it: 0 none, 1 CRC-32, 4
    /// CRC-64, 10 SHA-256.
    pub(crate) check: u8,
}

impl Settings {
    /// The memory liblzma's encoder needs for them, in bytes.
    pub(crate) fn encoder_memory(self) -> u64 {
        PRESET_ENCODER_MIB[usize::from(self.preset.min(9))] << 20
    }

    /// Whether liblzma can write these settings.
    pub(crate) fn valid(self) -> bool {
        self.preset <= 9 && check(self.check).is_some()
    }
}

fn check(id: u8) -> Option<Check> {
    Some(match id {
        0 => Check::None,
        1 => Check::Crc32,
        4 => Check::Crc64,
        10 => Check::Sha256,
        _ => return None,
    })
}

/// The check ID of the xz stream `data` starts with, if it starts one.
pub(crate) fn stream_check(data: &[u8]) -> Option<u8> {
    let header = data.get(..HEADER_LEN)?;
    (header.starts_with(MAGIC) && header[6] == 0 && header[7] < 16).then_some(header[7])
}

/// The settings that may have written the xz stream `data` starts with, most likely
/// first: the presets whose dictionary its first block names (all, for a stream without
/// blocks or an unusual first block), each plain then extreme.
pub(crate) fn candidates(data: &[u8]) -> Vec<Settings> {
    let Some(check) = stream_check(data) else {
        return Vec::new();
    };
    let dict = first_block_dict(data);
    let order = [6u8, 9, 1, 2, 3, 4, 5, 7, 8, 0];
    let presets = order
        .into_iter()
        .filter(|&p| dict.is_none_or(|d| PRESET_DICT[usize::from(p)] == d));
    presets
        .flat_map(|preset| {
            [false, true].map(|extreme| Settings {
                preset,
                extreme,
                check,
            })
        })
        .collect()
}

/// The dictionary property of the first block, when it has exactly one filter, LZMA2.
fn first_block_dict(data: &[u8]) -> Option<u8> {
    let block = data.get(HEADER_LEN..)?;
    let size = (usize::from(*block.first()?) + 1) * 4;
    let header = block.get(..size).filter(|_| block[0] != 0)?;
    let flags = header[1];
    if flags & 0x03 != 0 {
        return None;
    }
    let mut pos = 2;
    for present in [flags & 0x40 != 0, flags & 0x80 != 0] {
        if present {
            // A varint: bytes with the high bit set, then one without.
            pos += header.get(pos..)?.iter().position(|b| b & 0x80 == 0)? + 1;
        }
    }
    match header.get(pos..pos + 3)? {
        [LZMA2, 1, dict] => Some(*dict),
        _ => None,
    }
}

/// Decompresses the xz stream `data` starts with onto `out`, which may grow to at most
/// `max` bytes; returns the stream's length (padding after it not included), or `None`
/// when it is corrupt, truncated, needs more than 256 MiB to decode, or decompresses past
/// `max`.
pub(crate) fn inflate_stream(data: &[u8], out: &mut Vec<u8>, max: usize) -> Option<usize> {
    // xz-core is translated C: a panic inside it (see the workspace's Cargo.toml on
    // overflow checks) is a stream it could not decode, never a crash.
    catch_unwind(AssertUnwindSafe(|| inflate(data, out, max))).ok()?
}

fn inflate(data: &[u8], out: &mut Vec<u8>, max: usize) -> Option<usize> {
    let mut state = Stream::new_stream_decoder(DECODER_MEMORY, 0).ok()?;
    coder::decompress(&mut state, data, out, max)
}

/// Runs the encoder over `plain`, handing each piece of output to `sink` until it
/// returns `false`. A panic inside the encoder ends the output early: the caller's length
/// and byte checks then fail.
pub(crate) fn run(settings: Settings, plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
    let _ = catch_unwind(AssertUnwindSafe(|| encode(settings, plain, sink)));
}

fn encode(settings: Settings, plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
    let Some(check) = check(settings.check) else {
        return;
    };
    let preset = u32::from(settings.preset) | if settings.extreme { EXTREME } else { 0 };
    if let Ok(mut state) = Stream::new_easy_encoder(preset, check) {
        coder::compress(&mut state, plain, sink);
    }
}

impl Coder for Stream {
    fn step(&mut self, input: &[u8], output: &mut [u8], finish: bool) -> Result<bool, ()> {
        let action = if finish { Action::Finish } else { Action::Run };
        let status = self.process(input, output, action).map_err(drop)?;
        Ok(status == Status::StreamEnd)
    }

    fn total_in(&self) -> u64 {
        Stream::total_in(self)
    }

    fn total_out(&self) -> u64 {
        Stream::total_out(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(settings: Settings, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        run(settings, plain, &mut |bytes| {
            out.extend_from_slice(bytes);
            true
        });
        out
    }

    fn sample() -> Vec<u8> {
        (0..100_000u32)
            .flat_map(|i| format!("line {} of {}\n", i % 977, i / 3).into_bytes())
            .collect()
    }

    const DEFAULT: Settings = Settings {
        preset: 6,
        extreme: false,
        check: 4,
    };

    #[test]
    fn round_trips_and_names_its_own_settings_first() {
        let plain = sample();
        for preset in [0u8, 3, 6, 9] {
            for check in [0u8, 1, 4, 10] {
                let settings = Settings {
                    preset,
                    extreme: preset == 3,
                    check,
                };
                let mut xz = compress(settings, &plain);
                let len = xz.len();
                assert_eq!(stream_check(&xz), Some(check));
                let found = candidates(&xz);
                assert!(found.contains(&settings), "{settings:?} in {found:?}");
                assert!(found.len() <= 4, "{found:?}");
                xz.extend_from_slice(b"\0\0\0\0after");
                let mut out = b"prefix".to_vec();
                assert_eq!(inflate_stream(&xz, &mut out, usize::MAX), Some(len));
                assert_eq!(&out[6..], &plain[..]);
            }
        }
    }

    #[test]
    fn an_empty_stream_has_no_block_and_every_candidate() {
        let xz = compress(DEFAULT, b"");
        assert_eq!(candidates(&xz).len(), 20);
        let mut out = Vec::new();
        assert_eq!(inflate_stream(&xz, &mut out, 0), Some(xz.len()));
    }

    #[test]
    fn refuses_truncated_corrupt_and_oversized_streams() {
        let plain = sample();
        let xz = compress(DEFAULT, &plain);
        assert_eq!(
            inflate_stream(&xz[..xz.len() - 1], &mut Vec::new(), usize::MAX),
            None
        );
        let mut bad = xz.clone();
        bad[xz.len() / 2] ^= 0x10;
        assert_eq!(inflate_stream(&bad, &mut Vec::new(), usize::MAX), None);
        assert_eq!(inflate_stream(&xz, &mut Vec::new(), plain.len() - 1), None);
        assert_eq!(stream_check(b"\xFD7zXZ\x00\x00"), None);
        assert_eq!(candidates(b"not xz at all"), Vec::new());
    }
}
