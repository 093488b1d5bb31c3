//! Signed `aws-chunked` bodies, and proptests over random framings signed by the real
//! `aws-sigv4` crate.

use super::support::*;

const AMZ_DATE: &str = "20231114T221320Z";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

/// A body framed in `chunks`, each signed by `aws-sigv4`, chained on [`SEED`]; with a
/// signed crc32 trailer if `trailer`.
fn signed_body(chunks: &[&[u8]], trailer: Option<&str>) -> Vec<u8> {
    let identity: Identity = Credentials::new("AKID", SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .settings(SigningSettings::default())
        .build()
        .expect("params");
    let mut previous = SEED.to_owned();
    let mut body = Vec::new();
    for chunk in chunks.iter().chain([&&b""[..]]) {
        let signature = v4::sign_chunk(&Bytes::copy_from_slice(chunk), &previous, &params)
            .expect("chunk signature")
            .signature()
            .to_owned();
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = signature;
    }
    if let Some(value) = trailer {
        let mut trailers = Headers::new();
        trailers.insert("x-amz-checksum-crc32", value.to_owned());
        let signature = v4::sign_trailer(&trailers, &previous, &params)
            .expect("trailer signature")
            .signature()
            .to_owned();
        body.extend_from_slice(format!("x-amz-checksum-crc32:{value}\r\n").as_bytes());
        body.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

/// Decodes `body` cut at `splits` with the engine: the payload, or the error code.
fn decode(
    body: &[u8],
    splits: &[usize],
    declared: u64,
    signed: Option<bool>,
    crc32_trailer: bool,
) -> Result<Vec<u8>, &'static str> {
    let signing =
        signed.map(|trailer| ChunkSigning::for_tests(SECRET, AMZ_DATE, "us-east-1", SEED, trailer));
    let checksum = crc32_trailer.then(|| Expected {
        running: Running::new("crc32").expect("known"),
        header: None,
        trailer: true,
    });
    let mut verifier = Verifier::default();
    verifier.declared = Some(declared);
    verifier.checksum = checksum;
    let mut engine = Engine::new(Plan {
        chunked: Some(signing),
        verifier,
    });
    let mut out = Vec::new();
    let mut start = 0;
    for end in splits.iter().copied().chain([body.len()]) {
        engine.push(Bytes::copy_from_slice(&body[start..end]));
        start = end;
        while let Some(data) = engine.next().map_err(|e| e.code())? {
            out.extend_from_slice(&data);
        }
    }
    engine.finish().map_err(|e| e.code())?;
    Ok(out)
}

#[test]
fn a_signed_trailer_is_required_and_checked() {
    let crc = compute("crc32", b"hello world").expect("known");
    let body = signed_body(&[b"hello", b" world"], Some(&crc));
    assert_eq!(
        decode(&body, &[], 11, Some(true), true),
        Ok(b"hello world".to_vec())
    );
    // Signed without the trailer: the trailer lines are not the signer's.
    assert!(decode(&body, &[], 11, Some(false), true).is_err());
    let bare = signed_body(&[b"hello", b" world"], None);
    assert_eq!(
        decode(&bare, &[], 11, Some(true), false),
        Err("IncompleteBody")
    );
    // Anonymous (no signing material): decoded, signatures not checked.
    assert_eq!(
        decode(&body, &[], 11, None, true),
        Ok(b"hello world".to_vec())
    );
}

#[test]
fn signed_payload_extension_is_used_for_presigned_hashes() {
    let body = b"payload";
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"other").into();
    let mut r = Request::put("/bucket/key")
        .header("content-length", body.len())
        .body(pieces(body, &[]))
        .expect("request");
    r.extensions_mut().insert(SignedPayload::Sha256(digest));
    send(1 << 20, r).assert_refused("XAmzContentSHA256Mismatch", 400);
}

fn payload_and_splits() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, Vec<usize>)> {
    prop::collection::vec(any::<u8>(), 0..3000).prop_flat_map(|payload| {
        let len = payload.len();
        (
            Just(payload),
            prop::collection::vec(1..400usize, 0..12),
            prop::collection::vec(0..len + 2000, 0..8),
        )
    })
}

fn cut<'a>(payload: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = payload;
    for &size in sizes
        .iter()
        .cycle()
        .take(if sizes.is_empty() { 0 } else { 10_000 })
    {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    if !rest.is_empty() {
        chunks.push(rest);
    }
    chunks
}

fn sorted_within(mut splits: Vec<usize>, len: usize) -> Vec<usize> {
    splits.iter_mut().for_each(|s| *s = (*s).min(len));
    splits.sort_unstable();
    splits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_framing_decodes_to_the_payload((payload, sizes, splits) in payload_and_splits(),
                                          signed in any::<bool>(), trailer in any::<bool>()) {
        let chunks = cut(&payload, &sizes);
        let crc = compute("crc32", &payload).expect("known");
        let body = if signed {
            signed_body(&chunks, trailer.then_some(crc.as_str()))
        } else if trailer {
            framed(&chunks, &[("x-amz-checksum-crc32", &crc)])
        } else {
            framed(&chunks, &[])
        };
        let splits = sorted_within(splits, body.len());
        let signing = signed.then_some(trailer);
        prop_assert_eq!(decode(&body, &splits, payload.len() as u64, signing, trailer), Ok(payload));
    }

    #[test]
    fn any_single_byte_corruption_is_refused((payload, sizes, splits) in payload_and_splits(),
                                             signed in any::<bool>(), at in any::<prop::sample::Index>(),
                                             flip in 1..=255u8) {
        // Signed, or carrying a checksum trailer: every byte of the body is covered.
        let chunks = cut(&payload, &sizes);
        let crc = compute("crc32", &payload).expect("known");
        let body = if signed {
            signed_body(&chunks, Some(&crc))
        } else {
            framed(&chunks, &[("x-amz-checksum-crc32", &crc)])
        };
        let mut corrupt = body.clone();
        let at = at.index(corrupt.len());
        // Header names are case-insensitive: a trailer name with one letter's case changed
        // names the same trailer (and its signature covers names lower-cased).
        let in_trailer_name = ["x-amz-checksum-crc32:", "x-amz-trailer-signature:"]
            .iter()
            .filter_map(|name| {
                body.windows(name.len())
                    .position(|w| w == name.as_bytes())
                    .map(|start| start..start + name.len() - 1)
            })
            .any(|names| names.contains(&at));
        prop_assume!(!(in_trailer_name && flip == 0x20 && body[at].is_ascii_alphabetic()));
        corrupt[at] ^= flip;
        let splits = sorted_within(splits, corrupt.len());
        let signing = signed.then_some(true);
        let decoded = decode(&corrupt, &splits, payload.len() as u64, signing, true);
        prop_assert!(decoded.is_err(), "byte {} of {:?} flipped and accepted", at, String::from_utf8_lossy(&body));
    }
}
