//! `StreamDecoder` fed the delta in input-derived pieces, against `decode_with(Pure)`.
//!
//! Checks: no panic; the streaming decoder succeeds exactly when the whole-buffer pure
//! decoder does, and then emits the same bytes; with a SHA-256 expectation, `finish`
//! accepts the right digest and rejects a wrong one.
#![no_main]

mod common;

use common::{DecodeCase, FLAG_READY_API, FLAG_SHA256, FLAG_WRONG_SHA256, Rng};
use deltaglider_codec::{Backend, Error, Result, Sha256, Sha256Digest, StreamDecoder, decode_with};
use libfuzzer_sys::fuzz_target;

/// Runs the streaming decoder to the end; `Err` at the first failure.
fn stream(case: &DecodeCase<'_>, expect: Option<Sha256Digest>) -> Result<Vec<u8>> {
    let mut decoder = StreamDecoder::new(case.reference.len() as u64, case.expected_len);
    if let Some(digest) = expect {
        decoder = decoder.expect_sha256(digest);
    }
    let mut rng = Rng::new(u64::from(case.chunk) << 32 | case.expected_len);
    let mut out = Vec::new();
    let mut rest = case.delta;
    while !rest.is_empty() {
        let n = match case.chunk {
            0 => rest.len(),
            max => rng.size(usize::from(max)).min(rest.len()),
        };
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        decoder.push(piece)?;
        if case.flags & FLAG_READY_API != 0 {
            while let Some(range) = decoder.ready()? {
                let segment = case
                    .reference
                    .get(range.start as usize..range.end as usize)
                    .expect("ready() returned a range outside the reference");
                out.extend_from_slice(&decoder.decode_ready(segment)?);
            }
        } else {
            while let Some(window) = decoder.decode_next(&mut &case.reference[..])? {
                out.extend_from_slice(&window);
            }
        }
        assert_eq!(decoder.produced(), out.len() as u64, "produced() disagrees");
    }
    let digest = decoder.finish()?;
    assert!(
        digest == Sha256::digest(&out),
        "finish() returned the wrong SHA-256"
    );
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = DecodeCase::parse(data) else {
        return;
    };
    let whole = decode_with(Backend::Pure, case.reference, case.delta, case.expected_len);
    let expect = match &whole {
        Ok(bytes) if case.flags & FLAG_WRONG_SHA256 != 0 => {
            let mut digest = Sha256::digest(bytes);
            digest.0[0] ^= 1;
            Some(digest)
        }
        Ok(bytes) if case.flags & FLAG_SHA256 != 0 => Some(Sha256::digest(bytes)),
        _ => None,
    };
    let streamed = stream(&case, expect);
    match (&whole, &streamed) {
        (Ok(w), Ok(s)) => {
            assert!(expect.is_none() || case.flags & FLAG_WRONG_SHA256 == 0);
            assert!(w == s, "streamed bytes differ from decode_with(Pure)");
        }
        (Ok(_), Err(Error::ChecksumMismatch { .. })) if case.flags & FLAG_WRONG_SHA256 != 0 => {}
        (Ok(_), Err(e)) => panic!("decode_with(Pure) succeeded, StreamDecoder failed: {e}"),
        (Err(e), Ok(_)) => panic!("StreamDecoder succeeded, decode_with(Pure) failed: {e}"),
        (Err(_), Err(_)) => {}
    }
});
