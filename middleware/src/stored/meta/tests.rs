//! Metadata written reads back; legacy names are read; bad metadata is refused.

use std::collections::HashMap;

use deltaglider_codec::{Md5, Sha256};

use super::error::MetaError;
use super::names::is_internal_name;
use super::object::{Container, Kind, ObjectMeta, PayloadDelta, RefInfo};
use super::reserved::check_client_name;

fn parse(stored_key: &str, map: &HashMap<String, String>) -> Result<ObjectMeta, MetaError> {
    ObjectMeta::parse(stored_key, |name| map.get(name).map(String::as_str))
}

fn delta_meta() -> ObjectMeta {
    ObjectMeta {
        kind: Kind::Delta,
        tool: "deltaglider-rs/0.1.0".into(),
        file_sha256: Sha256::digest(b"v2"),
        file_size: Some(2),
        md5: Some(Md5::digest(b"v2")),
        multipart_etag: None,
        created_at: "2026-11-25T09:14:03.512000Z".into(),
        original_name: Some("v2.zip".into()),
        source_name: None,
        reference: Some(RefInfo {
            key: "releases/reference.bin".into(),
            sha256: Sha256::digest(b"v1"),
        }),
        delta_size: Some(81),
        ref_seq: 0,
        checksums: vec![("crc32".into(), "DUoRhQ==".into())],
        payload_delta: None,
    }
}

#[test]
fn written_metadata_reads_back_and_fits() {
    let meta = delta_meta();
    let map: HashMap<String, String> = meta
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(parse("releases/v2.zip.delta", &map), Ok(meta.clone()));
    let size: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(size < 1024, "{size} bytes of metadata");
    assert_eq!(map["dg-compression"], "vcdiff");
    assert_eq!(meta.etag(), format!("\"{}\"", Md5::digest(b"v2")));
}

#[test]
fn a_reference_stored_as_a_delta_names_its_base_in_format_3() {
    let meta = ObjectMeta {
        kind: Kind::Reference,
        md5: None,
        original_name: None,
        source_name: Some("releases/v5.bin".into()),
        reference: Some(RefInfo {
            key: "releases/reference.0123456789abcdef.bin".into(),
            sha256: Sha256::digest(b"v4"),
        }),
        ref_seq: 5,
        checksums: Vec::new(),
        ..delta_meta()
    };
    let map: HashMap<String, String> = meta
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(map["dg-format"], "3");
    assert_eq!(map["dg-ref-seq"], "5");
    let key = "releases/reference.fedcba9876543210.bin";
    assert_eq!(parse(key, &map), Ok(meta.clone()));
    // Its base must be a reference of its own deltaspace.
    let mut foreign = map.clone();
    foreign.insert("dg-ref-key".into(), "other/reference.bin".into());
    assert!(matches!(
        parse(key, &foreign),
        Err(MetaError::ForeignReference { .. })
    ));
    // Before format 3 a reference names no base, whatever its metadata holds.
    let mut older = map.clone();
    older.insert("dg-format".into(), "1".into());
    assert_eq!(parse(key, &older).map(|m| m.reference), Ok(None));
    // A whole reference writes neither, and stays version 1.
    let whole = ObjectMeta {
        reference: None,
        ref_seq: 0,
        delta_size: None,
        ..meta
    };
    let pairs = whole.to_pairs();
    assert!(
        pairs
            .iter()
            .all(|(k, _)| *k != "dg-ref-key" && *k != "dg-ref-seq")
    );
    assert!(pairs.contains(&("dg-format", "1".to_owned())));
}

#[test]
fn python_cli_legacy_names_are_read() {
    let sha = Sha256::digest(b"v2").to_hex();
    let map: HashMap<String, String> = [
        ("tool", "deltaglider/5.0.0"),
        ("file_sha256", sha.as_str()),
        ("file_size", "2"),
        ("created_at", "2025-01-01T00:00:00"),
        ("ref_key", "releases/reference.bin"),
        ("ref_sha256", sha.as_str()),
        ("delta_size", "10"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let meta = parse("releases/v2.zip.delta", &map).expect("legacy delta");
    assert_eq!(
        meta.reference.as_ref().map(|r| r.key.as_str()),
        Some("releases/reference.bin")
    );
    assert_eq!(meta.file_size, Some(2));
    assert_eq!(meta.etag(), format!("\"{}\"", &sha[..32]));
}

#[test]
fn proxy_relative_ref_path_resolves_in_the_deltaspace() {
    let sha = Sha256::digest(b"x").to_hex();
    let map: HashMap<String, String> = [
        ("dg-file-sha256", sha.as_str()),
        ("dg-ref-path", "reference.bin"),
        ("dg-ref-sha256", sha.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let meta = parse("a/b/x.zip.delta", &map).expect("proxy delta");
    assert_eq!(
        meta.reference.as_ref().map(|r| r.key.as_str()),
        Some("a/b/reference.bin")
    );
}

#[test]
fn bad_metadata_is_refused() {
    let mut map: HashMap<String, String> = delta_meta()
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let parse_v2 = |m: &HashMap<String, String>| parse("releases/v2.zip.delta", m);
    map.insert("dg-ref-key".into(), "other/reference.bin".into());
    assert!(matches!(
        parse_v2(&map),
        Err(MetaError::ForeignReference { .. })
    ));
    map.insert("dg-ref-key".into(), "releases/secret.txt".into());
    assert!(matches!(
        parse_v2(&map),
        Err(MetaError::ForeignReference { .. })
    ));
    map.insert("dg-ref-key".into(), "releases/reference.bin".into());
    map.insert("dg-file-size".into(), "12x".into());
    assert!(matches!(parse_v2(&map), Err(MetaError::Invalid { .. })));
    map.remove("dg-file-size");
    assert_eq!(
        parse_v2(&map),
        Err(MetaError::Missing {
            name: "dg-file-size"
        })
    );
    map.insert("dg-format".into(), "4".into());
    assert!(matches!(
        parse_v2(&map),
        Err(MetaError::UnsupportedVersion { .. })
    ));
    map.insert("dg-format".into(), "two".into());
    assert!(matches!(
        parse_v2(&map),
        Err(MetaError::UnsupportedVersion { .. })
    ));
}

#[test]
fn gzip_payload_deltas_are_version_2() {
    let mut meta = delta_meta();
    meta.payload_delta = Some(PayloadDelta {
        container: Container::Gzip,
        recipe_size: 321,
        payload_size: 10_240,
    });
    let mut map: HashMap<String, String> = meta
        .to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(map["dg-format"], "2");
    assert_eq!(map["dg-payload"], "gzip");
    assert!(!map.contains_key("dg-delta-cmd"), "not an xdelta3 delta");
    assert_eq!(parse("releases/v2.zip.delta", &map), Ok(meta));
    // Version 1 objects stay version 1.
    assert_eq!(delta_meta().to_pairs()[1], ("dg-format", "1".to_owned()));
    // A payload encoding this reader does not know, or missing sizes: refused.
    map.insert("dg-payload".into(), "zstd".into());
    assert!(matches!(
        parse("releases/v2.zip.delta", &map),
        Err(MetaError::Invalid {
            name: "dg-payload",
            ..
        })
    ));
    map.insert("dg-payload".into(), "gzip".into());
    map.remove("dg-recipe-size");
    assert_eq!(
        parse("releases/v2.zip.delta", &map),
        Err(MetaError::Missing {
            name: "dg-recipe-size"
        })
    );
}

#[test]
fn internal_names_are_hidden_and_reserved() {
    assert!(is_internal_name("dg-note", false));
    assert!(is_internal_name("DG_Anything", false));
    assert!(!is_internal_name("file_sha256", false));
    assert!(is_internal_name("file_sha256", true));
    assert!(!is_internal_name("project", true));
    assert!(check_client_name("Dg-Note").is_err());
    assert!(check_client_name("build-id").is_ok());
}
