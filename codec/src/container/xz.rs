//! xz files: one stream per file (concatenated with stream padding, whole groups of four
//! zero bytes, which `xz -d` skips), each rebuilt by liblzma's encoder at the preset and
//! check it was identified with.

use super::streams::Format;
use crate::deflate::identify_xz;
use crate::xz::{inflate_stream, stream_check};

/// xz streams, as [`super::streams`] reads them.
pub(super) const XZ: Format = Format {
    starts: is_xz,
    inflate: inflate_stream,
    identify: identify_xz,
    padding,
};

/// Whether `data` starts like an xz stream (magic and valid stream flags).
pub(super) fn is_xz(data: &[u8]) -> bool {
    stream_check(data).is_some()
}

/// The length of the stream padding at the start of `data`.
fn padding(data: &[u8]) -> usize {
    data.chunks_exact(4)
        .take_while(|group| group == &[0; 4])
        .count()
        * 4
}
