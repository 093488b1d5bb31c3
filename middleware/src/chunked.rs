//! `aws-chunked` request bodies (SigV4 streaming uploads), decoded after buffering.
//!
//! Layout: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` repeated, a final chunk of
//! size 0, then optional trailer lines (`x-amz-checksum-crc32:<b64>\r\n`) and `\r\n`.
//! Chunk signatures are the business of the SigV4 layer in front; here they are skipped.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::error::S3Error;

/// Whether the request body is `aws-chunked`.
pub(crate) fn is_aws_chunked(headers: &HeaderMap) -> bool {
    let encoded = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().eq_ignore_ascii_case("aws-chunked"))
        });
    let streaming = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    encoded || streaming
}

/// The payload and trailers of an `aws-chunked` body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) data: Bytes,
    pub(crate) trailers: Vec<(String, String)>,
}

fn malformed(what: &str) -> S3Error {
    S3Error::new(
        "IncompleteBody",
        http::StatusCode::BAD_REQUEST,
        format!("malformed aws-chunked body: {what}"),
    )
}

/// Decodes a complete `aws-chunked` body.
pub(crate) fn decode(body: &[u8]) -> Result<Decoded, S3Error> {
    let mut data = BytesMut::with_capacity(body.len());
    let mut rest = body;
    loop {
        let line_end = find_crlf(rest).ok_or_else(|| malformed("chunk header without CRLF"))?;
        let header = std::str::from_utf8(&rest[..line_end])
            .map_err(|_| malformed("chunk header is not text"))?;
        let size_hex = header.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| malformed("chunk size is not hexadecimal"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        if rest.len() < size + 2 || &rest[size..size + 2] != b"\r\n" {
            return Err(malformed("chunk shorter than its declared size"));
        }
        data.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    let mut trailers = Vec::new();
    loop {
        let Some(line_end) = find_crlf(rest) else {
            // Some clients end the body right after the last trailer or the final chunk.
            if !rest.is_empty() {
                trailers.push(parse_trailer(rest)?);
            }
            break;
        };
        let line = &rest[..line_end];
        rest = &rest[line_end + 2..];
        if line.is_empty() {
            break;
        }
        trailers.push(parse_trailer(line)?);
    }
    Ok(Decoded {
        data: data.freeze(),
        trailers,
    })
}

fn parse_trailer(line: &[u8]) -> Result<(String, String), S3Error> {
    let line = std::str::from_utf8(line).map_err(|_| malformed("trailer is not text"))?;
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| malformed("trailer without a colon"))?;
    Ok((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_and_unsigned_with_trailers() {
        let signed = b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=000\r\n\r\n";
        let d = decode(signed).expect("signed");
        assert_eq!(&d.data[..], b"hello world");
        assert!(d.trailers.is_empty());
        let unsigned = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\nx-amz-trailer-signature:sig\r\n\r\n";
        let d = decode(unsigned).expect("unsigned");
        assert_eq!(&d.data[..], b"abc");
        assert_eq!(
            d.trailers[0],
            ("x-amz-checksum-crc32".into(), "NSRBwg==".into())
        );
        assert!(decode(b"5\r\nhel").is_err());
        assert!(decode(b"zz\r\n").is_err());
    }
}
