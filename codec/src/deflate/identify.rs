//! Finding what rebuilds a deflate stream: the encoder that wrote it, a close encoder and
//! a fix-up, or preflate.

use super::encoder::{Agreement, Encoder, ZlibParams};
use super::method::{Chunk, Method, fixup};
use super::preflate;
use super::zlib::{Flavor, ZlibParams as PortParams};

/// What [`identify`] may spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Policy {
    /// Largest fix-up kept, as a fraction of the stream's length.
    pub(crate) max_fixup_ratio: f64,
    /// Largest stream (compressed bytes) preflate is tried on when no encoder fits:
    /// preflate rebuilds any stream, but at a few MB/s.
    pub(crate) preflate_up_to: usize,
    /// Most memory an encoder tried may need (only xz's presets need much).
    pub(crate) max_encoder_memory: u64,
}

/// The encoder that rebuilt the previous stream of the same container: tried first, since
/// one tool usually writes every member.
pub(crate) type Hint = Option<Encoder>;

/// The candidates, most common first: zlib's default and best levels (Python, C tools),
/// Chromium's (npm), GNU gzip's (`gzip`, `tar czf`), flate2's backends (Rust tools,
/// cargo), then every other level of each.
fn candidates() -> impl Iterator<Item = Encoder> {
    let levels = [6u8, 9, 1, 2, 3, 4, 5, 7, 8];
    let port = |flavor| {
        levels
            .into_iter()
            .map(move |l| Encoder::Zlib(PortParams::new(l, flavor)))
    };
    let zlib_rs = levels
        .into_iter()
        .map(|l| Encoder::ZlibRs(ZlibParams::at(l)));
    let miniz = [6u8, 9, 1, 2, 3, 4, 5, 7, 8, 10]
        .into_iter()
        .map(|l| Encoder::Miniz { level: l });
    let first = [6u8, 9].map(|l| Encoder::Zlib(PortParams::new(l, Flavor::Zlib)));
    first
        .into_iter()
        .chain([9u8, 6].map(|l| Encoder::Zlib(PortParams::new(l, Flavor::Chromium))))
        .chain([6u8, 9].map(|l| Encoder::Zlib(PortParams::new(l, Flavor::Gnu))))
        .chain([6u8, 9].map(|l| Encoder::ZlibRs(ZlibParams::at(l))))
        .chain([9u8, 6].map(|l| Encoder::ZlibRs(ZlibParams::at(l).synced())))
        .chain([6u8, 9].map(|l| Encoder::Miniz { level: l }))
        .chain(port(Flavor::Zlib).skip(2))
        .chain(port(Flavor::Chromium).skip(2))
        .chain(port(Flavor::Gnu).skip(2))
        .chain(zlib_rs.skip(2))
        .chain(miniz.skip(2))
}

/// What rebuilds `original` (one complete raw deflate stream) from `plain` (its
/// decompressed bytes), or `None` when nothing does within `policy`. The result has been
/// checked: it rebuilds `original` exactly.
pub(crate) fn identify(
    original: &[u8],
    plain: &[u8],
    hint: &mut Hint,
    policy: &Policy,
) -> Option<Method> {
    let found = by_encoders(
        hint.iter().copied().chain(candidates()),
        original,
        plain,
        policy,
    );
    if let Some(Method::Encoder { encoder, fixup }) = &found
        && fixup.is_empty()
    {
        *hint = Some(*encoder);
    }
    found.or_else(|| by_preflate(original, plain, policy))
}

/// What rebuilds `original`, one complete bzip2 stream of block size `block_size`, from
/// `plain`: libbzip2's compressor at that block size (the only parameter its output
/// depends on), or it plus a fix-up when it comes close (another implementation that cuts
/// and codes most blocks alike), or `None`. A miss costs about one block of work.
pub(crate) fn identify_bzip2(
    original: &[u8],
    plain: &[u8],
    block_size: u8,
    policy: &Policy,
) -> Option<Method> {
    let encoder = Encoder::Bzip2 { block_size };
    by_encoders(std::iter::once(encoder), original, plain, policy)
}

/// What rebuilds `original`, one complete xz stream, from `plain`: liblzma's encoder at
/// the first preset (plain or extreme) among those the stream's first block allows that
/// reproduces it; else the closest plus a fix-up, or `None`. A preset whose dictionary
/// differs from the stream's, or whose encoder needs more memory than `policy` allows, is
/// never tried; a miss among the others costs about one
/// LZMA2 chunk (2 MiB of payload).
pub(crate) fn identify_xz(original: &[u8], plain: &[u8], policy: &Policy) -> Option<Method> {
    let encoders = crate::xz::candidates(original)
        .into_iter()
        .filter(|s| s.encoder_memory() <= policy.max_encoder_memory)
        .map(Encoder::Xz);
    by_encoders(encoders, original, plain, policy)
}

/// The first of `encoders` that reproduces `original` exactly; else the closest plus a
/// fix-up, when that is small enough.
fn by_encoders(
    encoders: impl Iterator<Item = Encoder>,
    original: &[u8],
    plain: &[u8],
    policy: &Policy,
) -> Option<Method> {
    // Outputs reproducing at least half the stream are kept for a fix-up.
    let keep_from = original.len() / 2;
    let mut closest: Option<(Encoder, Agreement, Option<Vec<u8>>)> = None;
    for encoder in encoders {
        let (agreement, output) = encoder.attempt(plain, original, keep_from);
        if agreement.exact {
            return Some(Method::Encoder {
                encoder,
                fixup: Vec::new(),
            });
        }
        if closest
            .as_ref()
            .is_none_or(|(_, best, _)| agreement.matched > best.matched)
        {
            closest = Some((encoder, agreement, output));
        }
    }
    let (encoder, agreement, output) = closest?;
    with_fixup(encoder, agreement, output, original, plain, policy)
}

/// The closest encoder plus a fix-up, when it reproduced at least half the stream and the
/// fix-up is small. `output` is the encoder's whole output, when its attempt kept it.
fn with_fixup(
    encoder: Encoder,
    agreement: Agreement,
    output: Option<Vec<u8>>,
    original: &[u8],
    plain: &[u8],
    policy: &Policy,
) -> Option<Method> {
    if agreement.matched < original.len() / 2 {
        return None;
    }
    let max = (original.len() as f64 * policy.max_fixup_ratio) as usize;
    let ours = output.unwrap_or_else(|| encoder.compress(plain));
    let fixup = fixup(&ours, original, max)?;
    Some(Method::Encoder { encoder, fixup })
}

fn by_preflate(original: &[u8], plain: &[u8], policy: &Policy) -> Option<Method> {
    if original.len() > policy.preflate_up_to {
        return None;
    }
    let mut payload = Vec::with_capacity(plain.len());
    let analysed = preflate::analyse(original, &mut payload, plain.len())?;
    if payload != plain || analysed.consumed != original.len() {
        return None;
    }
    let chunks = analysed
        .chunks
        .into_iter()
        .map(|(plain_len, corrections)| Chunk {
            plain_len,
            corrections,
        })
        .collect();
    let method = Method::Preflate {
        engine: preflate::ENGINE,
        chunks,
    };
    // preflate's own check is off (the caller verifies whole files): check this stream.
    (method
        .rebuild(plain, Some(original.len() as u64), None)
        .ok()?
        == original)
        .then_some(method)
}
