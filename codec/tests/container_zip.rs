//! `container::unpack` / `repack` on zip archives written by real tools (Python `zipfile`,
//! Info-ZIP `zip`, `jar`, `bsdtar`: `tests/fixtures/zip/`): every archive round-trips byte
//! for byte, deflated members are rebuilt by an identified encoder, and damaged archives
//! are refused or rebuilt exactly, never mangled.
#![cfg(feature = "gzip")]

use std::path::{Path, PathBuf};

use deltaglider_codec::container::{
    Container, Limits, declared_payload_size, describe, kind, payload, repack, unpack,
};

fn fixtures() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zip");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip" || e == "jar"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read fixture");
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 10, "fixtures present");
    out
}

#[test]
fn real_archives_round_trip_with_identified_encoders() {
    let mut identified = 0;
    for (path, zip) in fixtures() {
        let name = path.display();
        if !zip.starts_with(b"PK") {
            // A self-extractor stub first: not taken for a zip (stored as it is).
            assert_eq!(
                unpack(&zip, &Limits::default()).expect("no error"),
                None,
                "{name}"
            );
            continue;
        }
        assert_eq!(kind(&zip), Some(Container::Zip), "{name}");
        let u = unpack(&zip, &Limits::default())
            .expect("no error")
            .unwrap_or_else(|| panic!("{name}: refused"));
        assert_eq!(
            repack(&u.payload, &u.recipe).expect("repack"),
            zip,
            "{name}"
        );
        let d = describe(&u.recipe).expect("describe");
        identified += d.streams.len();
        assert!(
            d.streams.iter().all(|s| !s.method.starts_with("preflate")),
            "{name}: {:?}",
            d.streams
        );
        // As a reference, the same archive's payload is what unpack produced whenever
        // every deflated member was rebuilt.
        let p = payload(&zip, &Limits::default()).expect("payload");
        assert_eq!(Some(p.len() as u64), declared_payload_size(&zip), "{name}");
        if d.copied_bytes as usize
            + d.streams
                .iter()
                .map(|s| s.plain_len as usize)
                .sum::<usize>()
            == u.payload.len()
        {
            assert_eq!(p, u.payload, "{name}");
        }
    }
    assert!(identified > 10, "{identified} deflated members identified");
}

#[test]
fn damaged_archives_are_refused_or_exact() {
    for (path, zip) in fixtures().into_iter().take(6) {
        for i in 0..60usize {
            let mut bad = zip.clone();
            let at = (i * 7919 + 13) % bad.len();
            bad[at] ^= 1 << (i % 8);
            if let Ok(Some(u)) = unpack(&bad, &Limits::default()) {
                assert_eq!(
                    repack(&u.payload, &u.recipe).expect("repack"),
                    bad,
                    "{} flipped at {at}",
                    path.display()
                );
            }
            let cut = &zip[..at];
            if let Ok(Some(u)) = unpack(cut, &Limits::default()) {
                assert_eq!(repack(&u.payload, &u.recipe).expect("repack"), cut);
            }
        }
    }
}

#[test]
fn the_payload_limit_holds_for_zip() {
    let (_, zip) = fixtures()
        .into_iter()
        .find(|(p, _)| p.ends_with("python.zip"))
        .expect("python.zip");
    let full = payload(&zip, &Limits::default()).expect("payload").len();
    let limits = Limits::default().max_payload(full - 1);
    assert_eq!(payload(&zip, &limits), None);
    assert_eq!(unpack(&zip, &limits).expect("no error"), None);
}
