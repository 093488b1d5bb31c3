use super::*;
use crate::deflate::{Chunk, Encoder, Method};

fn sample() -> Recipe {
    let encoder = Encoder::from_bytes([2, 9, 15, 8, 0]).expect("zlib-rs level 9");
    Recipe {
        container: Container::Zip,
        segments: vec![
            Segment::Literal(vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            Segment::Copy(300),
            Segment::Deflate {
                plain_len: 1000,
                deflate_len: Some(120),
                method: Method::Encoder {
                    encoder,
                    fixup: b"fix".to_vec(),
                },
            },
            Segment::Deflate {
                plain_len: u64::MAX / 4,
                deflate_len: Some(7),
                method: Method::Preflate {
                    engine: 2,
                    chunks: vec![Chunk {
                        plain_len: u64::MAX / 4,
                        corrections: b"abc".to_vec(),
                    }],
                },
            },
            Segment::Deflate {
                plain_len: 12,
                deflate_len: Some(9),
                method: Method::Reference { offset: 1 << 40 },
            },
            Segment::Literal(Vec::new()),
        ],
    }
}

#[test]
fn round_trip() {
    let r = sample();
    let bytes = r.to_bytes();
    assert_eq!(Recipe::parse(&bytes).expect("parses"), r);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            Recipe::parse(&bytes[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Recipe::parse(&longer).is_err());
}

#[test]
fn huge_counts_and_lengths_are_refused() {
    for version_and_kind in [&b"\x02\x01"[..], b"\x01\x02"] {
        let mut b = b"DGZ".to_vec();
        b.extend_from_slice(version_and_kind);
        put_varint(&mut b, u64::MAX);
        assert!(matches!(Recipe::parse(&b), Err(Error::Malformed { .. })));
    }
    let mut b = b"DGZ\x02\x01\x01\x00".to_vec();
    put_varint(&mut b, 1 << 40);
    b.extend_from_slice(&[0; 32]);
    assert!(matches!(Recipe::parse(&b), Err(Error::Malformed { .. })));
    let b = b"DGZ\x02\x01\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
    assert!(matches!(Recipe::parse(b), Err(Error::Malformed { .. })));
}

#[test]
fn unknown_version_container_engine_or_encoder() {
    assert!(matches!(
        Recipe::parse(b"DGZ\x03\x01"),
        Err(Error::Unsupported {
            what: "version",
            found: 3
        })
    ));
    assert!(matches!(
        Recipe::parse(b"DGZ\x02\x07\x00"),
        Err(Error::Unsupported {
            what: "container",
            ..
        })
    ));
    assert!(matches!(
        Recipe::parse(b"DGZ\x01\x09"),
        Err(Error::Unsupported {
            what: "engine",
            found: 9
        })
    ));
    // One deflate segment naming encoder code 0x7f.
    let b = b"DGZ\x02\x01\x01\x02\x01\x01\x02\x7f\x06\x0f\x08\x00\x00";
    assert!(matches!(Recipe::parse(b), Err(Error::Encoder { .. })));
}

#[test]
fn version_1_reads_as_gzip_segments() {
    let mut b = b"DGZ\x01\x02\x01".to_vec();
    put_bytes(&mut b, &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    b.push(2);
    for (len, corr) in [(5u64, &b"ab"[..]), (7, b"c")] {
        put_varint(&mut b, len);
        put_bytes(&mut b, corr);
    }
    b.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    put_bytes(&mut b, b"\0\0");
    let r = Recipe::parse(&b).expect("version 1 parses");
    assert_eq!(r.container, Container::Gzip);
    assert_eq!(r.payload_len(), Some(12));
    assert_eq!(r.segments.len(), 4);
    assert!(matches!(
        &r.segments[1],
        Segment::Deflate {
            plain_len: 12,
            deflate_len: None,
            method: Method::Preflate { engine: 2, .. }
        }
    ));
}
