//! `IndexBuilder` fed the delta in input-derived pieces, then a range decoded from the
//! covering windows alone, against `decode_range` over the whole delta.
//!
//! Checks: no panic; a delta that decodes whole indexes, its index accounts for every
//! delta byte and every target byte; a range decoded from the header plus the covering
//! windows' bytes equals the same range decoded from the whole delta.
#![no_main]

mod common;

use common::{DecodeCase, Rng};
use deltaglider_codec::{Backend, IndexBuilder, WindowIndex, decode_range, decode_with};
use libfuzzer_sys::fuzz_target;

fn index(case: &DecodeCase<'_>) -> deltaglider_codec::Result<WindowIndex> {
    let mut builder = IndexBuilder::new(case.reference.len() as u64);
    let mut rng = Rng::new(u64::from(case.chunk) << 32 | case.expected_len);
    let mut rest = case.delta;
    while !rest.is_empty() {
        let n = match case.chunk {
            0 => rest.len(),
            max => rng.size(usize::from(max)).min(rest.len()),
        };
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        builder.push(piece)?;
    }
    builder.finish()
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = DecodeCase::parse(data) else {
        return;
    };
    let whole = decode_with(Backend::Pure, case.reference, case.delta, case.expected_len);
    let indexed = index(&case);
    let (Ok(whole), Ok(index)) = (whole, indexed) else {
        return;
    };
    assert_eq!(index.delta_len(), case.delta.len() as u64);
    assert_eq!(index.target_len(), whole.len() as u64);
    let total = whole.len() as u64;
    if total == 0 || index.sequential() || !index.windows().iter().all(|w| w.checksummed) {
        return;
    }
    let mut rng = Rng::new(case.expected_len ^ u64::from(case.flags));
    let start = rng.size(total as usize) as u64 % total;
    let end = start + 1 + rng.size((total - start) as usize) as u64 % (total - start);
    let covering = index.covering(start..end);
    let (first, last) = (covering[0], covering[covering.len() - 1]);
    let mut part = index.header().to_vec();
    part.extend_from_slice(
        &case.delta[first.delta_start as usize..last.delta_range().end as usize],
    );
    let part_len = last.target_start + last.target_len - first.target_start;
    let shifted = start - first.target_start..end - first.target_start;
    let from_part = decode_range(case.reference, &part, part_len, shifted);
    let from_whole = decode_range(case.reference, case.delta, total, start..end);
    assert_eq!(
        from_part.ok(),
        from_whole.ok(),
        "range through the index differs"
    );
    assert_eq!(
        decode_range(case.reference, case.delta, total, start..end)
            .ok()
            .as_deref(),
        Some(&whole[start as usize..end as usize]),
    );
});
