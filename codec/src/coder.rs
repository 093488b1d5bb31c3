//! Driving a streaming compressor or decompressor (bzip2's, liblzma's) over bytes in
//! memory: the loop their C-shaped APIs need, written once.

/// Output buffer per call.
const OUT: usize = 64 << 10;

/// One streaming coder: `step` consumes some input and writes some output, as the C
/// libraries' `BZ2_bzCompress`/`lzma_code` do, with running totals.
pub(crate) trait Coder {
    /// Feeds `input` (everything not yet consumed; `finish` once it is empty) and writes
    /// into `output`. `Ok(true)` at the end of the stream, `Err` on any error.
    fn step(&mut self, input: &[u8], output: &mut [u8], finish: bool) -> Result<bool, ()>;
    /// Input consumed so far.
    fn total_in(&self) -> u64;
    /// Output written so far.
    fn total_out(&self) -> u64;
}

/// Runs compressor `coder` over all of `plain`, handing each piece of output to `sink`
/// until it returns `false`; an error ends the output early.
pub(crate) fn compress(coder: &mut impl Coder, plain: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) {
    let mut buf = vec![0u8; OUT];
    loop {
        let fed = usize::try_from(coder.total_in()).unwrap_or(usize::MAX);
        let rest = plain.get(fed..).unwrap_or_default();
        let before = coder.total_out();
        let Ok(end) = coder.step(rest, &mut buf, rest.is_empty()) else {
            return;
        };
        let written = usize::try_from(coder.total_out() - before).unwrap_or(OUT);
        if (written > 0 && !sink(&buf[..written])) || end {
            return;
        }
    }
}

/// Decompresses the stream `data` starts with onto `out`, which may grow to at most `max`
/// bytes; returns the stream's length, or `None` when it is corrupt, truncated, or
/// decompresses past `max`.
pub(crate) fn decompress(
    coder: &mut impl Coder,
    data: &[u8],
    out: &mut Vec<u8>,
    max: usize,
) -> Option<usize> {
    let mut buf = vec![0u8; OUT];
    loop {
        let consumed = usize::try_from(coder.total_in()).ok()?;
        let input = &data[consumed..];
        let before = coder.total_out();
        let end = coder.step(input, &mut buf, input.is_empty()).ok()?;
        let written = usize::try_from(coder.total_out() - before).ok()?;
        if out.len() + written > max {
            return None;
        }
        out.extend_from_slice(&buf[..written]);
        let now = usize::try_from(coder.total_in()).ok()?;
        if end {
            return Some(now);
        }
        if now == consumed && written == 0 {
            // No progress with room to write: truncated, or stuck.
            return None;
        }
    }
}
