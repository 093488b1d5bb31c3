//! The `Content-MD5` request header: its form, and the base64 it is written in (the
//! ingest checks it against the body).

/// Whether `value` is the base64 form of 16 bytes, as a Content-MD5 must be.
pub fn is_base64_md5(value: &[u8]) -> bool {
    value.len() == 24
        && value.ends_with(b"==")
        && value[..22]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
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
