//! bzip2 files: one stream for `bzip2`, Python's `bz2` and `tar cjf`; one per 900 kB
//! chunk for `pbzip2`; one per file for concatenated `.bz2` files. Each stream is rebuilt
//! by libbzip2's compressor at its header's block size; streams rebuild in parallel.

use super::streams::Format;
use crate::bz2::{block_size, inflate_stream};
use crate::deflate::identify_bzip2;

/// bzip2 streams, as [`super::streams`] reads them: no padding between them.
pub(super) const BZIP2: Format = Format {
    starts: is_bzip2,
    inflate: inflate_stream,
    identify: |original, plain, policy| {
        identify_bzip2(original, plain, block_size(original)?, policy)
    },
    padding: |_| 0,
};

/// Whether `data` starts like a bzip2 stream (magic, block size, block or end magic).
pub(super) fn is_bzip2(data: &[u8]) -> bool {
    block_size(data).is_some()
}
