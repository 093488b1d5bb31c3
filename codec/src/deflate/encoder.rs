//! The deflate encoders a stream can be rebuilt with: which implementation, with which
//! parameters, and how to run it.
//!
//! Every encoder here is pure Rust (wasm32 included): `miniz_oxide` and `zlib-rs` pinned to
//! an exact version in `codec/Cargo.toml`, zlib's and Chromium's deflate by this crate's
//! port. An encoder's output is only reproducible by the same code, so a version that
//! changes output gets a new [`Encoder`] code, and old codes stay readable.

use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress as miniz_compress,
    create_comp_flags_from_zip_params,
};
use zlib_rs::{DeflateConfig, DeflateFlush, Strategy};

use super::zlib;

/// The output buffer flate2's writers compress into (and so Rust tools' output): zlib-ng's
/// medium levels cut differently for other sizes.
const OUT: usize = 32 << 10;
/// Input fed to `zlib-rs` per call: what `std::io::copy` hands a flate2 writer, so what
/// most Rust tools feed it (zlib-ng's medium levels depend on it).
const ZLIB_RS_FEED: usize = 8 << 10;

/// An encoder and the parameters that rebuild one deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Encoder {
    /// `miniz_oxide` 0.9.1, raw deflate at `level` 0–10: flate2's default backend, and
    /// so the Rust `zip` crate's and many Rust tools' output.
    Miniz {
        /// Compression level, 0–10.
        level: u8,
    },
    /// `zlib-rs` 0.6.8 (a port of zlib-ng): flate2's `zlib-rs` backend, what recent
    /// cargo writes `.crate` files with.
    ZlibRs(ZlibParams),
    /// zlib's own deflate (madler 1.2.12–1.3.1: Python, most C tools), Chromium's fork
    /// (Node.js, so npm) or GNU gzip's deflate (the `gzip` command, so `tar czf`), by
    /// this crate's port ([`zlib`]).
    Zlib(zlib::ZlibParams),
    /// libbzip2 1.0.8's compressor (`bzip2`, Python's `bz2`, `tar cjf`) at `block_size`
    /// 1–9 (×100 kB), by `libbz2-rs-sys` 0.2.7: for a bzip2 container's streams, which
    /// are not deflate but are rebuilt, checked and fixed up the same way.
    Bzip2 {
        /// 1–9, as the stream's header says.
        block_size: u8,
    },
    /// liblzma's single-threaded xz stream encoder (`xz`, Python's `lzma`, `tar cJf`) by
    /// `xz-core` (XZ Utils 5.8 in Rust): for an xz container's streams.
    Xz(crate::xz::Settings),
}

/// zlib-style parameters (`deflateInit2`'s level, window bits, memory level and strategy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ZlibParams {
    /// 0–9.
    pub(crate) level: u8,
    /// 9–15 (raw deflate: the stream has no zlib header).
    pub(crate) window_bits: u8,
    /// 1–9.
    pub(crate) mem_level: u8,
    /// 0 default, 1 filtered, 2 Huffman only, 3 RLE, 4 fixed; plus [`SYNC_END`] when the
    /// writer flushed (`Z_SYNC_FLUSH`) before finishing, as flate2's writers do when
    /// flushed before `finish` (cargo's `.crate` files, maturin's wheels).
    pub(crate) strategy: u8,
}

/// Flag in [`ZlibParams::strategy`]: a sync flush after the last input, before finishing.
pub(crate) const SYNC_END: u8 = 0x80;

impl ZlibParams {
    /// zlib's defaults at `level`: 15 window bits, memory level 8, default strategy.
    pub(crate) const fn at(level: u8) -> Self {
        Self {
            level,
            window_bits: 15,
            mem_level: 8,
            strategy: 0,
        }
    }

    fn valid(self) -> bool {
        self.level <= 9
            && (9..=15).contains(&self.window_bits)
            && (1..=9).contains(&self.mem_level)
            && self.strategy & !SYNC_END <= 4
    }

    /// The same, flushed before finishing.
    pub(crate) const fn synced(self) -> Self {
        Self {
            strategy: self.strategy | SYNC_END,
            ..self
        }
    }
}

/// Serialized length of an [`Encoder`]: code and four parameter bytes.
pub(crate) const ENCODED_LEN: usize = 5;

const CODE_MINIZ_0_9: u8 = 1;
const CODE_ZLIB_RS_0_6: u8 = 2;
const CODE_ZLIB: u8 = 3;
const CODE_CHROMIUM_ZLIB: u8 = 4;
const CODE_GNU_GZIP: u8 = 5;
const CODE_BZIP2_1_0_8: u8 = 6;
const CODE_XZ_5_8: u8 = 7;

impl Encoder {
    /// The five bytes the recipe stores: code, level, window bits, memory level, strategy
    /// (the last three zero for miniz; for bzip2, code and block size, then zeros; for xz,
    /// code, preset, extreme (0 or 1), check ID, zero).
    pub(crate) fn to_bytes(self) -> [u8; ENCODED_LEN] {
        match self {
            Self::Bzip2 { block_size } => [CODE_BZIP2_1_0_8, block_size, 0, 0, 0],
            Self::Xz(s) => [CODE_XZ_5_8, s.preset, u8::from(s.extreme), s.check, 0],
            Self::Miniz { level } => [CODE_MINIZ_0_9, level, 0, 0, 0],
            Self::ZlibRs(p) => [
                CODE_ZLIB_RS_0_6,
                p.level,
                p.window_bits,
                p.mem_level,
                p.strategy,
            ],
            Self::Zlib(p) => [
                match p.flavor {
                    zlib::Flavor::Zlib => CODE_ZLIB,
                    zlib::Flavor::Chromium => CODE_CHROMIUM_ZLIB,
                    zlib::Flavor::Gnu => CODE_GNU_GZIP,
                },
                p.level,
                p.window_bits,
                p.mem_level,
                p.strategy.zlib_value(),
            ],
        }
    }

    /// Reads [`to_bytes`](Self::to_bytes) back; `Err` names what this build cannot honour.
    pub(crate) fn from_bytes(b: [u8; ENCODED_LEN]) -> Result<Self, &'static str> {
        let zlib = ZlibParams {
            level: b[1],
            window_bits: b[2],
            mem_level: b[3],
            strategy: b[4],
        };
        let port = |flavor| {
            let p = zlib::ZlibParams {
                level: b[1],
                window_bits: b[2],
                mem_level: b[3],
                strategy: zlib::Strategy::from_zlib_value(b[4])?,
                flavor,
            };
            // 8 window bits is written as 9 (zlib's own rule), so one stream has one code.
            (p.is_valid() && p.window_bits >= 9).then_some(Self::Zlib(p))
        };
        let found = match b[0] {
            CODE_MINIZ_0_9 => {
                (b[1] <= 10 && b[2..] == [0, 0, 0]).then_some(Self::Miniz { level: b[1] })
            }
            CODE_ZLIB_RS_0_6 => zlib.valid().then_some(Self::ZlibRs(zlib)),
            CODE_ZLIB => port(zlib::Flavor::Zlib),
            CODE_CHROMIUM_ZLIB => port(zlib::Flavor::Chromium),
            CODE_GNU_GZIP => port(zlib::Flavor::Gnu),
            CODE_BZIP2_1_0_8 => ((1..=9).contains(&b[1]) && b[2..] == [0, 0, 0])
                .then_some(Self::Bzip2 { block_size: b[1] }),
            CODE_XZ_5_8 => {
                let s = crate::xz::Settings {
                    preset: b[1],
                    extreme: b[2] == 1,
                    check: b[3],
                };
                (s.valid() && b[2] <= 1 && b[4] == 0).then_some(Self::Xz(s))
            }
            _ => return Err("an encoder this build does not have"),
        };
        found.ok_or("encoder parameters out of range")
    }

    /// Compresses all of `plain` (as raw deflate, or a bzip2 stream for [`Self::Bzip2`]).
    pub(crate) fn compress(self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() / 3 + 64);
        if let Self::Zlib(p) = self {
            zlib::compress(plain, &p, &mut out);
            return out;
        }
        self.run(plain, &mut |bytes| {
            out.extend_from_slice(bytes);
            true
        });
        out
    }

    /// How many leading bytes of `original` compressing `plain` reproduces, stopping at the
    /// first difference (a wrong guess costs about one block of work); `exact` when the
    /// whole output equals `original`.
    pub(crate) fn agreement(self, plain: &[u8], original: &[u8]) -> Agreement {
        if let Self::Zlib(p) = self {
            let a = zlib::agreement(plain, &p, original);
            return Agreement {
                matched: a.prefix,
                exact: a.exact,
            };
        }
        self.attempt(plain, original, usize::MAX).0
    }

    /// [`agreement`](Self::agreement), also returning the whole output when it is not
    /// exact but reproduced at least `keep_from` leading bytes (the encoder then runs on
    /// past the difference), so a fix-up can be taken without running it again. The port's
    /// encoders (`Zlib`) return no output.
    pub(crate) fn attempt(
        self,
        plain: &[u8],
        original: &[u8],
        keep_from: usize,
    ) -> (Agreement, Option<Vec<u8>>) {
        if let Self::Zlib(_) = self {
            return (self.agreement(plain, original), None);
        }
        let mut out = Vec::new();
        let mut matched = 0usize;
        let mut differs = false;
        self.run(plain, &mut |bytes| {
            if !differs {
                let theirs = original.get(matched..).unwrap_or_default();
                let same = common_prefix(bytes, theirs);
                matched += same;
                differs = same < bytes.len();
            }
            out.extend_from_slice(bytes);
            !differs || matched >= keep_from
        });
        let exact = !differs && matched == original.len();
        // Not stopped early: either it never differed, or it ran on to the end.
        let kept = (!exact && matched >= keep_from).then_some(out);
        (Agreement { matched, exact }, kept)
    }

    /// Runs the encoder over `plain`, handing each piece of output to `sink` until it
    /// returns `false`.
    fn run(self, plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
        match self {
            Self::Miniz { level } => run_miniz(level, plain, sink),
            Self::ZlibRs(p) => run_zlib_rs(p, plain, sink),
            Self::Bzip2 { block_size } => crate::bz2::run(block_size, plain, sink),
            Self::Xz(s) => crate::xz::run(s, plain, sink),
            // Handled by the port's own compare (`compress`, `agreement`).
            Self::Zlib(p) => {
                let mut out = Vec::new();
                zlib::compress(plain, &p, &mut out);
                sink(&out);
            }
        }
    }
}

impl std::fmt::Display for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Miniz { level } => write!(f, "miniz_oxide level {level}"),
            Self::ZlibRs(p) => write!(f, "zlib-rs {p}"),
            Self::Bzip2 { block_size } => write!(f, "bzip2 -{block_size} (libbzip2 1.0.8)"),
            Self::Xz(s) => {
                let e = if s.extreme { "e" } else { "" };
                write!(f, "xz -{}{e}, check {} (XZ Utils 5.8)", s.preset, s.check)
            }
            Self::Zlib(p) => {
                let name = match p.flavor {
                    zlib::Flavor::Zlib => "zlib",
                    zlib::Flavor::Chromium => "Chromium zlib",
                    zlib::Flavor::Gnu => "GNU gzip",
                };
                let q = ZlibParams {
                    level: p.level,
                    window_bits: p.window_bits,
                    mem_level: p.mem_level,
                    strategy: p.strategy.zlib_value(),
                };
                write!(f, "{name} {q}")
            }
        }
    }
}

impl std::fmt::Display for ZlibParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "level {}", self.level)?;
        let strategy = self.strategy & !SYNC_END;
        if (self.window_bits, self.mem_level, strategy) != (15, 8, 0) {
            let (w, m) = (self.window_bits, self.mem_level);
            write!(
                f,
                " (window bits {w}, memory level {m}, strategy {strategy})"
            )?;
        }
        if self.strategy & SYNC_END != 0 {
            write!(f, ", sync flush at the end")?;
        }
        Ok(())
    }
}

/// What [`Encoder::agreement`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreement {
    /// Leading bytes of the original reproduced.
    pub(crate) matched: usize,
    /// The whole original reproduced, and nothing more.
    pub(crate) exact: bool,
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn run_miniz(level: u8, mut plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
    let flags = create_comp_flags_from_zip_params(i32::from(level), -15, 0);
    let mut state = CompressorOxide::new(flags);
    // flate2's writer offers all the input it has and a 32 KiB output buffer; miniz's
    // fastest level cuts differently for other feeds.
    let mut buf = vec![0u8; OUT];
    loop {
        let flush = if plain.is_empty() {
            TDEFLFlush::Finish
        } else {
            TDEFLFlush::None
        };
        let (status, read, written) = miniz_compress(&mut state, plain, &mut buf, flush);
        plain = &plain[read..];
        if written > 0 && !sink(&buf[..written]) {
            return;
        }
        match status {
            TDEFLStatus::Okay => {}
            // Done, or an error the parameters cannot cause (they are validated).
            _ => return,
        }
    }
}

fn run_zlib_rs(p: ZlibParams, mut plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
    let config = DeflateConfig {
        level: i32::from(p.level),
        window_bits: -i32::from(p.window_bits),
        mem_level: i32::from(p.mem_level),
        strategy: match p.strategy & !SYNC_END {
            1 => Strategy::Filtered,
            2 => Strategy::HuffmanOnly,
            3 => Strategy::Rle,
            4 => Strategy::Fixed,
            _ => Strategy::Default,
        },
        ..DeflateConfig::default()
    };
    let mut state = zlib_rs::Deflate::new_with_config(config);
    let mut buf = vec![0u8; OUT];
    let synced = p.strategy & SYNC_END != 0;
    // Input in pieces, then (if the writer flushed) a sync flush drained, then finish.
    let mut phase = 0;
    loop {
        let take = plain.len().min(ZLIB_RS_FEED);
        let flush = match phase {
            0 if take < plain.len() || (synced && !plain.is_empty()) => DeflateFlush::NoFlush,
            0 if synced => {
                phase = 1;
                DeflateFlush::SyncFlush
            }
            1 => DeflateFlush::NoFlush,
            _ => DeflateFlush::Finish,
        };
        let (before_in, before_out) = (state.total_in(), state.total_out());
        let status = state.compress(&plain[..take], &mut buf, flush);
        let read = (state.total_in() - before_in) as usize;
        let written = (state.total_out() - before_out) as usize;
        plain = &plain[read..];
        if written > 0 && !sink(&buf[..written]) {
            return;
        }
        match status {
            Ok(zlib_rs::Status::StreamEnd) | Err(_) => return,
            // The flush drained: finish next.
            Ok(_) if phase == 1 && written < buf.len() => phase = 2,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| format!("line {} of {}\n", i % 977, i / 13).into_bytes())
            .collect()
    }

    #[test]
    fn every_encoder_agrees_with_itself_and_round_trips() {
        let plain = sample();
        for enc in [
            Encoder::Miniz { level: 1 },
            Encoder::Miniz { level: 6 },
            Encoder::Miniz { level: 10 },
            Encoder::ZlibRs(ZlibParams::at(1)),
            Encoder::ZlibRs(ZlibParams::at(6)),
            Encoder::ZlibRs(ZlibParams::at(9)),
            Encoder::ZlibRs(ZlibParams {
                strategy: 3,
                mem_level: 9,
                ..ZlibParams::at(6)
            }),
            Encoder::ZlibRs(ZlibParams::at(6).synced()),
            Encoder::ZlibRs(ZlibParams::at(9).synced()),
        ] {
            let out = enc.compress(&plain);
            let back = miniz_oxide::inflate::decompress_to_vec(&out).expect("valid deflate");
            assert_eq!(back, plain, "{enc:?}");
            let a = enc.agreement(&plain, &out);
            assert!(a.exact && a.matched == out.len(), "{enc:?}: {a:?}");
            assert_eq!(Encoder::from_bytes(enc.to_bytes()), Ok(enc));
        }
    }

    #[test]
    fn a_wrong_guess_stops_early() {
        let plain = sample();
        let original = Encoder::ZlibRs(ZlibParams::at(9)).compress(&plain);
        let a = Encoder::Miniz { level: 1 }.agreement(&plain, &original);
        assert!(!a.exact);
        assert!(a.matched < original.len() / 2, "{a:?}");
        let mut longer = original.clone();
        longer.push(0);
        let a = Encoder::ZlibRs(ZlibParams::at(9)).agreement(&plain, &longer);
        assert!(!a.exact && a.matched == original.len());
    }

    #[test]
    fn a_close_attempt_keeps_the_whole_output() {
        let plain = sample();
        let enc = Encoder::ZlibRs(ZlibParams::at(9));
        let out = enc.compress(&plain);
        let mut near = out.clone();
        let at = near.len() - 10;
        near[at] ^= 0x55;
        let (a, kept) = enc.attempt(&plain, &near, near.len() / 2);
        assert!(!a.exact && a.matched == at, "{a:?}");
        assert_eq!(kept.as_deref(), Some(&out[..]));
        let (a, kept) = enc.attempt(&plain, &out, out.len() / 2);
        assert!(a.exact && kept.is_none());
        // Far off: stopped at the first difference, nothing kept.
        let (a, kept) = Encoder::Miniz { level: 1 }.attempt(&plain, &out, out.len() / 2);
        assert!(!a.exact && a.matched < out.len() / 2 && kept.is_none());
    }

    #[test]
    fn unknown_codes_and_parameters_are_refused() {
        assert!(Encoder::from_bytes([9, 6, 15, 8, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_MINIZ_0_9, 11, 0, 0, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_MINIZ_0_9, 6, 15, 0, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_ZLIB_RS_0_6, 10, 15, 8, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_ZLIB_RS_0_6, 6, 8, 8, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_ZLIB_RS_0_6, 6, 15, 0, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_ZLIB_RS_0_6, 6, 15, 8, 5]).is_err());
        // gzip has levels 1–9 and no other parameter.
        assert!(Encoder::from_bytes([CODE_GNU_GZIP, 0, 15, 8, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_GNU_GZIP, 6, 14, 8, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_GNU_GZIP, 6, 15, 9, 0]).is_err());
        assert!(Encoder::from_bytes([CODE_GNU_GZIP, 6, 15, 8, 1]).is_err());
    }

    #[test]
    fn gnu_gzip_is_code_5() {
        let enc = Encoder::Zlib(zlib::ZlibParams::new(9, zlib::Flavor::Gnu));
        assert_eq!(enc.to_bytes(), [CODE_GNU_GZIP, 9, 15, 8, 0]);
        assert_eq!(Encoder::from_bytes(enc.to_bytes()), Ok(enc));
        assert_eq!(enc.to_string(), "GNU gzip level 9");
        let plain = sample();
        let out = enc.compress(&plain);
        let back = miniz_oxide::inflate::decompress_to_vec(&out).expect("valid deflate");
        assert_eq!(back, plain);
        assert!(enc.agreement(&plain, &out).exact);
    }
}
