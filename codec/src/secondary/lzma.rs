//! xdelta3's LZMA secondary compressor (`-S lzma`, the default of Debian's and most other
//! builds), decoded the way xdelta3 decodes it.
//!
//! Each section kind (data, instructions, addresses) is one xz stream that runs on
//! across windows: xdelta3's encoder flushes it (`LZMA_SYNC_FLUSH`) at the end of each
//! window's section and never finishes it. So a section decodes only after the same
//! section of every earlier window, with the same decoder state.

use std::panic::{AssertUnwindSafe, catch_unwind};

use xz::stream::{Action, Stream};

/// The most memory one section's decoder may use: a dictionary of up to 64 MiB, which is
/// what xz's largest preset uses (xdelta3 takes its preset from the compression level).
const MEMORY_LIMIT: u64 = 80 << 20;

/// One section kind's xz stream, decoded window after window.
pub(crate) struct Section {
    stream: Stream,
}

impl Section {
    /// A decoder at the start of the stream.
    pub(crate) fn new() -> Result<Self, &'static str> {
        let stream = Stream::new_stream_decoder(MEMORY_LIMIT, 0)
            .map_err(|_| "the LZMA decoder could not start")?;
        Ok(Self { stream })
    }

    /// Decodes the next window's piece of the stream, `input`, which must fill `out`
    /// exactly and be consumed whole (as xdelta3 requires).
    pub(crate) fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> Result<(), &'static str> {
        // xz-core is translated C: a panic inside it is a stream it could not decode.
        catch_unwind(AssertUnwindSafe(|| self.run(input, out)))
            .unwrap_or(Err("the LZMA decoder failed"))
    }

    fn run(&mut self, input: &[u8], out: &mut [u8]) -> Result<(), &'static str> {
        let (mut read, mut written) = (0usize, 0usize);
        while written < out.len() {
            let (in_before, out_before) = (self.stream.total_in(), self.stream.total_out());
            self.stream
                .process(&input[read..], &mut out[written..], Action::Run)
                .map_err(|_| "corrupt LZMA section")?;
            let consumed = (self.stream.total_in() - in_before) as usize;
            let produced = (self.stream.total_out() - out_before) as usize;
            if consumed == 0 && produced == 0 {
                return Err("LZMA section ends short of its declared size");
            }
            read += consumed;
            written += produced;
        }
        // What follows the last output byte (the flush's chunk end) yields no output.
        while read < input.len() {
            let in_before = self.stream.total_in();
            self.stream
                .process(&input[read..], &mut [], Action::Run)
                .map_err(|_| "corrupt LZMA section")?;
            let consumed = (self.stream.total_in() - in_before) as usize;
            if consumed == 0 {
                break;
            }
            read += consumed;
        }
        if read != input.len() {
            return Err("LZMA section has bytes past its declared size");
        }
        Ok(())
    }
}
