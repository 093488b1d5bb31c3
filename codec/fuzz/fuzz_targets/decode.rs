//! `decode_with` on both backends over hostile deltas, and `decode_range` /
//! `range_reads` over the same input.
//!
//! Checks: no panic (and, under ASan, no memory error in the xdelta3 C code); a success
//! yields exactly `expected_len` bytes; when both backends succeed they agree byte for
//! byte. Native and pure may reject different deltas, so one failing alone is allowed —
//! unless `DELTAGLIDER_FUZZ_STRICT=1` is set, which also asserts that they agree on
//! success/failure (a tool for finding where they diverge, not an invariant).
//! A range decode that succeeds where the whole decode did must give the same bytes, and
//! read only inside the reference.
#![no_main]

mod common;

use std::sync::OnceLock;

use common::DecodeCase;
use deltaglider_codec::{Backend, decode_range, decode_with, range_reads};
use libfuzzer_sys::fuzz_target;

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("DELTAGLIDER_FUZZ_STRICT").is_some_and(|v| v == "1"))
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = DecodeCase::parse(data) else {
        return;
    };
    let native = decode_with(
        Backend::Native,
        case.reference,
        case.delta,
        case.expected_len,
    );
    let pure = decode_with(Backend::Pure, case.reference, case.delta, case.expected_len);
    if let Ok(out) = &native {
        assert_eq!(
            out.len() as u64,
            case.expected_len,
            "native: wrong output length"
        );
    }
    if let Ok(out) = &pure {
        assert_eq!(
            out.len() as u64,
            case.expected_len,
            "pure: wrong output length"
        );
    }
    match (&native, &pure) {
        (Ok(n), Ok(p)) => assert!(n == p, "native and pure decoded different bytes"),
        (Ok(_), Err(e)) if strict() => panic!("only native succeeded; pure: {e}"),
        (Err(e), Ok(_)) if strict() => panic!("only pure succeeded; native: {e}"),
        _ => {}
    }
    // A range from the input's own length: the last third of the target.
    let len = case.expected_len;
    let range = len - len / 3..len;
    if let Ok(reads) = range_reads(case.reference.len() as u64, case.delta, len, range.clone()) {
        for read in &reads {
            assert!(read.start <= read.end && read.end <= case.reference.len() as u64);
        }
    }
    if let (Ok(part), Ok(whole)) = (
        decode_range(case.reference, case.delta, len, range.clone()),
        &pure,
    ) {
        assert!(
            part[..] == whole[range.start as usize..range.end as usize],
            "a range decoded to other bytes than the whole"
        );
    }
});
