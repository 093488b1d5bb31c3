//! Deltas whose header names xdelta3's LZMA secondary compressor, their windows the
//! fuzzer's bytes: the framing of compressed sections, their size prefixes and the LZMA
//! decoder carried from window to window, decoded whole, by ranges and streamed.
//!
//! Checks: no panic; memory bounded by the declared sizes (the harness's RSS limit); a
//! success yields exactly the declared length; the whole and streamed decodes agree when
//! both succeed, and a range agrees with the whole.
#![no_main]

use deltaglider_codec::{StreamDecoder, declared_target_len, decode, decode_range};
use libfuzzer_sys::fuzz_target;

/// A delta header: VCDIFF magic, the secondary-compressor flag, LZMA's ID (2).
const HEADER: [u8; 6] = [0xD6, 0xC3, 0xC4, 0x00, 0x01, 0x02];

fuzz_target!(|data: &[u8]| {
    let reference: Vec<u8> = (0..8192u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut delta = HEADER.to_vec();
    delta.extend_from_slice(data);
    let Ok(len) = declared_target_len(&delta) else {
        return;
    };
    if len > 1 << 24 {
        return;
    }
    let whole = decode(&reference, &delta, len);
    if let Ok(out) = &whole {
        assert_eq!(out.len() as u64, len, "wrong output length");
    }
    let mut decoder = StreamDecoder::new(reference.len() as u64, len);
    let mut streamed = Vec::new();
    let mut failed = false;
    for piece in delta.chunks(97) {
        let step = decoder.push(piece).and_then(|()| {
            while let Some(window) = decoder.decode_next(&mut &reference[..])? {
                streamed.extend_from_slice(&window);
            }
            Ok(())
        });
        if step.is_err() {
            failed = true;
            break;
        }
    }
    if !failed
        && decoder.finish().is_ok()
        && let Ok(out) = &whole
    {
        assert!(streamed == *out, "streamed and whole decodes differ");
    }
    let range = len / 2..len;
    if let (Ok(part), Ok(out)) = (decode_range(&reference, &delta, len, range.clone()), &whole) {
        assert!(
            part[..] == out[range.start as usize..],
            "a range differs from the whole"
        );
    }
});
