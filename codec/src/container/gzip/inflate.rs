//! Plain decompression of every gzip member: the payload of a reference.

use flate2::{Decompress, FlushDecompress, Status};

use super::header::{TRAILER_LEN, header_len, starts_member};

/// The concatenated payload of the gzip members at the start of `gz`, or `None` when `gz`
/// does not start with a member, a member is corrupt or truncated, or the payload would
/// exceed `max` bytes. Bytes after the last complete member are ignored.
pub(super) fn payload(gz: &[u8], max: usize) -> Option<Vec<u8>> {
    if !starts_member(gz) {
        return None;
    }
    let mut out = Vec::with_capacity(gz.len().saturating_mul(4).min(max));
    let mut pos = 0;
    while pos < gz.len() && starts_member(&gz[pos..]) {
        pos += header_len(&gz[pos..])?;
        pos += member(&gz[pos..], &mut out, max)?;
        if gz.len() - pos < TRAILER_LEN {
            return None;
        }
        pos += TRAILER_LEN;
    }
    Some(out)
}

/// Inflates one raw deflate stream from the start of `deflate` onto `out`; returns the
/// compressed bytes it took.
pub(super) fn member(deflate: &[u8], out: &mut Vec<u8>, max: usize) -> Option<usize> {
    let mut state = Decompress::new(false);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let (read, written) = (state.total_in(), state.total_out());
        let input = deflate.get(usize::try_from(read).ok()?..)?;
        let status = state
            .decompress(input, &mut buf, FlushDecompress::None)
            .ok()?;
        let produced = usize::try_from(state.total_out() - written).ok()?;
        if produced > max - out.len() {
            return None;
        }
        out.extend_from_slice(&buf[..produced]);
        match status {
            Status::StreamEnd => return usize::try_from(state.total_in()).ok(),
            // No progress: the input ended inside the stream.
            _ if state.total_in() == read && produced == 0 => return None,
            _ => {}
        }
    }
}
