//! The `Content-MD5` request header: its form, and the base64 it is written in (the
//! ingest checks it against the body).

/// Whether `value` is the base64 form of 16 bytes, as a Content-MD5 must be.
pub fn is_base64_md5(value: &[u8]) -> bool {
    decode(value).is_some()
}

/// The 16 bytes a Content-MD5 value stands for (standard base64: 22 digits and `==`,
/// whitespace around them being no part of a header's value); `None` for anything else. A store that checks the digest itself (R2) takes the bytes.
///
/// ```
/// use deltaglider::s3::content_md5::decode;
/// // MD5 of nothing: d41d8cd98f00b204e9800998ecf8427e.
/// let md5 = decode(b"1B2M2Y8AsgTpgAmY7PhCfg==").unwrap();
/// assert_eq!(md5[..3], [0xd4, 0x1d, 0x8c]);
/// assert_eq!(decode(b"Zm9v"), None);
/// ```
pub fn decode(value: &[u8]) -> Option<[u8; 16]> {
    let digits = value
        .trim_ascii()
        .strip_suffix(b"==")
        .filter(|d| d.len() == 22)?;
    let mut out = [0u8; 16];
    let mut filled = 0;
    // Four digits make three bytes; the last two digits make one (their four low bits
    // are padding).
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(digit(c)?) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        let count = chunk.len() - 1;
        out[filled..filled + count].copy_from_slice(&bytes[1..=count]);
        filled += count;
    }
    Some(out)
}

/// The value of one standard base64 digit.
fn digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Standard base64 with padding, for Content-MD5.
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_md5_shape() {
        assert!(is_base64_md5(base64_encode(&[7; 16]).as_bytes()));
        assert!(!is_base64_md5(b"not-an-md5"));
        assert!(!is_base64_md5(base64_encode(&[7; 15]).as_bytes()));
        assert!(!is_base64_md5(b"!AAAAAAAAAAAAAAAAAAAAA=="));
    }

    #[test]
    fn decodes_what_it_encodes() {
        let bytes: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5);
        assert_eq!(decode(base64_encode(&bytes).as_bytes()), Some(bytes));
        assert_eq!(decode(b"1B2M2Y8AsgTpgAmY7PhCfg"), None);
        assert_eq!(decode(b"!B2M2Y8AsgTpgAmY7PhCfg=="), None);
        assert!(decode(b" 1B2M2Y8AsgTpgAmY7PhCfg== ").is_some());
        assert_eq!(decode(b"1B2M2Y8AsgTpg AmY7PhCfg=="), None);
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(input.as_bytes()), output);
        }
    }
}
