//! `zip::regions` over hostile bytes: no panic, no runaway allocation, and whatever comes
//! back covers the input exactly (contiguous, non-empty regions, in order, from the first
//! byte to the last, no two raw regions side by side).
//!
//! Input layout: the bytes are the archive. Seeds: the test fixtures in
//! `codec/tests/fixtures/zip/` (archives from real tools; see the README).
#![no_main]

use deltaglider_codec::zip::{Region, regions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(cut) = regions(data) else {
        return;
    };
    let mut pos = 0;
    let mut last_raw = false;
    for region in &cut {
        let range = region.range();
        assert_eq!(range.start, pos, "gap or overlap");
        assert!(range.end > range.start, "empty region");
        let raw = matches!(region, Region::Raw(_));
        assert!(!(raw && last_raw), "unmerged raw regions");
        last_raw = raw;
        pos = range.end;
    }
    assert_eq!(pos, data.len(), "regions stop before the end");
});
