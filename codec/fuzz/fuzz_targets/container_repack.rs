//! `container::repack` over hostile recipes, and `container::unpack` over hostile input.
//!
//! Checks: no panic, no runaway allocation; whatever `unpack` accepts, `repack` rebuilds
//! byte for byte; `repack` of a damaged recipe fails or returns *some* bytes (the object's
//! SHA-256 catches a wrong result upstream), but never panics.
//!
//! Input layout:
//!
//! ```text
//! 0      mode: bit 0 clear → repack, set → unpack; bit 1 set → the payload bytes also
//!        serve as the reference archive (recipe method 03 copies from it)
//! repack: 1..3 payload length n, u16 LE (clamped to what follows); n payload bytes; the
//!         rest is the recipe
//! unpack: 1.. the container bytes (payload limit 4 MiB)
//! ```
#![no_main]

use deltaglider_codec::container::{Limits, repack, repack_against, unpack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 1 {
        let limits = Limits::default().max_payload(4 << 20);
        if let Ok(Some(u)) = unpack(rest, &limits) {
            assert!(u.payload.len() <= 4 << 20, "payload over the limit");
            let back = repack(&u.payload, &u.recipe).expect("repack of a fresh recipe");
            assert_eq!(back, rest, "unpack accepted what repack does not rebuild");
        }
        return;
    }
    if rest.len() < 2 {
        return;
    }
    let n = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
    let (payload, recipe) = rest[2..].split_at(n);
    if mode & 2 == 2 {
        let _ = repack_against(payload, recipe, Some(payload));
    } else {
        let _ = repack(payload, recipe);
    }
});
