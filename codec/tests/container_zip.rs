//! `container::unpack` / `repack` on zip archives written by real tools (Python `zipfile`,
//! Info-ZIP `zip`, `jar`, `bsdtar`: `tests/fixtures/zip/`): every archive round-trips byte
//! for byte, deflated members are rebuilt by an identified encoder, and damaged archives
//! are refused or rebuilt exactly, never mangled.
#![cfg(feature = "gzip")]

use std::path::{Path, PathBuf};

use deltaglider_codec::container::{
    Container, Limits, declared_payload_size, describe, kind, payload, repack, repack_against,
    unpack, unpack_against,
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

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zip")
        .join(name);
    std::fs::read(path).expect("read fixture")
}

#[test]
fn members_shared_with_the_reference_are_copied_from_it() {
    // The same members written by the same zipfile, once seekable and once streamed (data
    // descriptors): the deflated streams are the same bytes at other offsets.
    let reference = fixture("python.zip");
    let target = fixture("python-streamed.zip");
    let limits = Limits::default();
    let u = unpack_against(&target, Some(&reference), &limits)
        .expect("no error")
        .expect("unpacked");
    let alone = unpack(&target, &limits)
        .expect("no error")
        .expect("unpacked");
    assert_eq!(
        u.payload, alone.payload,
        "the payload does not depend on the reference"
    );
    let streams = describe(&u.recipe).expect("describe").streams;
    let copied = streams
        .iter()
        .filter(|s| s.method.starts_with("copied from the reference"))
        .count();
    assert!(copied >= 2, "{streams:?}");
    assert_eq!(
        repack_against(&u.payload, &u.recipe, Some(&reference)).expect("repack"),
        target
    );
    // Without the reference, or with another archive, it is refused or comes out other
    // than the original (which the caller's checksum catches) — never silently accepted
    // as the same bytes by accident here.
    let err = repack(&u.payload, &u.recipe).expect_err("needs its reference");
    assert!(err.to_string().contains("reference"), "{err}");
    let mut other = reference.clone();
    other.truncate(40);
    assert!(repack_against(&u.payload, &u.recipe, Some(&other)).is_err());
    let mut flipped = reference.clone();
    let last = flipped.len() / 2;
    flipped[last] ^= 0xff;
    if let Ok(bytes) = repack_against(&u.payload, &u.recipe, Some(&flipped)) {
        assert_ne!(
            bytes, target,
            "a changed reference cannot give the original"
        );
    }
}

#[test]
fn any_reference_leaves_the_round_trip_exact() {
    let all = fixtures();
    for (path, target) in all.iter().filter(|(_, z)| z.starts_with(b"PK")) {
        for (_, reference) in &all {
            let Some(u) =
                unpack_against(target, Some(reference), &Limits::default()).expect("no error")
            else {
                panic!("{}: refused", path.display());
            };
            assert_eq!(
                repack_against(&u.payload, &u.recipe, Some(reference)).expect("repack"),
                *target,
                "{}",
                path.display()
            );
        }
    }
}
