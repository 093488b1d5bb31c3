//! The gzip member header (RFC 1952, section 2.3): where it ends, nothing more.
//!
//! The header is stored verbatim in the recipe, so its fields (file name, mtime, extra
//! field, header CRC) need no interpretation: only their lengths, to find the deflate
//! stream behind them.

/// `ID1 ID2 CM`: the gzip magic and the deflate compression method.
const MAGIC: [u8; 3] = [0x1f, 0x8b, 8];
/// Length of the fixed part: magic, method, flags, mtime, extra flags, OS.
const FIXED_LEN: usize = 10;
/// Length of the member trailer: CRC-32 and ISIZE.
pub(super) const TRAILER_LEN: usize = 8;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// Whether `data` starts like a gzip member (magic and method; the rest is checked by
/// [`header_len`]).
pub(super) fn starts_member(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// The length of the member header at the start of `data`, or `None` if `data` does not
/// start with a complete, valid gzip header.
pub(super) fn header_len(data: &[u8]) -> Option<usize> {
    if !starts_member(data) || data.len() < FIXED_LEN {
        return None;
    }
    let flags = data[3];
    if flags & RESERVED != 0 {
        return None;
    }
    let mut pos = FIXED_LEN;
    if flags & FEXTRA != 0 {
        let xlen = data.get(pos..pos + 2)?;
        pos += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            pos += data.get(pos..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    (pos <= data.len()).then_some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_header() {
        let h = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xaa];
        assert_eq!(header_len(&h), Some(10));
        assert_eq!(header_len(&h[..9]), None);
    }

    #[test]
    fn optional_fields() {
        let mut h = vec![
            0x1f,
            0x8b,
            8,
            FEXTRA | FNAME | FCOMMENT | FHCRC,
            0,
            0,
            0,
            0,
            0,
            3,
        ];
        h.extend_from_slice(&[3, 0, b'a', b'b', b'c']);
        h.extend_from_slice(b"name\0comment\0");
        h.extend_from_slice(&[0x12, 0x34]);
        assert_eq!(header_len(&h), Some(h.len()));
        assert_eq!(header_len(&h[..h.len() - 1]), None);
        assert_eq!(header_len(&h[..20]), None, "unterminated name");
    }

    #[test]
    fn refuses_other_methods_and_reserved_flags() {
        assert_eq!(header_len(&[0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3]), None);
        assert_eq!(header_len(&[0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3]), None);
        assert_eq!(header_len(b"not gzip at all"), None);
    }
}
