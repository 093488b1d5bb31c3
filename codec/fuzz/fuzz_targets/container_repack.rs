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
use std::panic;
use std::sync::Once;

/// xz-core is C translated to Rust and, like the C, lets unsigned counters wrap; with the
/// overflow checks `cargo fuzz run -a` turns on, those wraps panic inside it, and the codec
/// catches the panic and reports an error (the workspace's Cargo.toml turns the checks
/// off for it). libFuzzer's hook would abort on them first: it still does for every
/// other panic.
fn tolerate_xz_core_wraps() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let in_xz_core = info
                .location()
                .is_some_and(|at| at.file().contains("/xz-core-"));
            if !in_xz_core {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    tolerate_xz_core_wraps();
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
