//! Property test: listing through the layer equals listing a plain bucket holding the same
//! logical keys, under random prefixes, delimiters and page sizes, for ListObjectsV2 and
//! ListObjects. Keys are chosen so that `.delta` suffixes reorder stored keys.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use deltaglider::DeltaConfig;
use deltaglider_tests::s3::{client, layered, plain};
use deltaglider_tests::scratch_dir;
use proptest::prelude::*;

/// Names whose stored forms (`<key>.delta` for the eligible ones) sort differently from
/// the keys themselves.
const POOL: &[&str] = &[
    "v1.zip",
    "v1.zip-x",
    "v1.zip.2",
    "v1.zip.2.zip",
    "v1.zip-x.zip",
    "v1.zip.d",
    "v1.zip.delta2",
    "v1.zipa",
    "v1.zip~/x.zip",
    "v1.zip0/y",
    "a/b.zip",
    "a/b.zip.c",
    "a/c",
    "a/b/c.bin",
    "a.b/x.zip",
    "a-.zip",
    "ab.zip",
    "dir/v1.zip",
    "dir/v1.zip.1.zip",
    "dir.zip",
    "x.bin",
    "x.bin.bin",
    "z",
];

#[derive(Debug, Clone)]
struct Listing {
    keys: Vec<(String, i64)>,
    prefixes: Vec<String>,
}

async fn list_all(
    s3: &Client,
    prefix: &str,
    delimiter: Option<&str>,
    page: i32,
    v2: bool,
) -> Listing {
    let mut out = Listing {
        keys: Vec::new(),
        prefixes: Vec::new(),
    };
    let mut token: Option<String> = None;
    for _ in 0..200 {
        let (contents, prefixes, next) = if v2 {
            let r = s3
                .list_objects_v2()
                .bucket("lst")
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .max_keys(page)
                .set_continuation_token(token.clone())
                .send()
                .await
                .expect("list v2");
            let next = if r.is_truncated() == Some(true) {
                r.next_continuation_token().map(str::to_owned)
            } else {
                None
            };
            (r.contents().to_vec(), r.common_prefixes().to_vec(), next)
        } else {
            let r = s3
                .list_objects()
                .bucket("lst")
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .max_keys(page)
                .set_marker(token.clone())
                .send()
                .await
                .expect("list v1");
            let last = r
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .chain(r.common_prefixes().iter().filter_map(|p| p.prefix()))
                .max()
                .map(str::to_owned);
            let next = if r.is_truncated() == Some(true) {
                r.next_marker().map(str::to_owned).or(last)
            } else {
                None
            };
            (r.contents().to_vec(), r.common_prefixes().to_vec(), next)
        };
        out.keys.extend(contents.iter().map(|o| {
            (
                o.key().unwrap_or_default().to_owned(),
                o.size().unwrap_or(-1),
            )
        }));
        out.prefixes.extend(
            prefixes
                .iter()
                .filter_map(|p| p.prefix())
                .map(str::to_owned),
        );
        match next {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
    panic!("listing did not end");
}

async fn put_all(s3: &Client, keys: &[(String, Vec<u8>)]) {
    s3.create_bucket()
        .bucket("lst")
        .send()
        .await
        .expect("create bucket");
    for (key, body) in keys {
        s3.put_object()
            .bucket("lst")
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {key}: {e:?}"));
    }
}

fn body(seed: usize) -> Vec<u8> {
    // Similar bodies, so eligible keys become deltas (checked below).
    let mut b: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    b[seed * 13 % 20_000] ^= 0xFF;
    b.extend(std::iter::repeat_n(seed as u8, seed % 50));
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn layered_listing_equals_plain_listing(
        chosen in proptest::sample::subsequence(POOL, 1..POOL.len()),
        inner_page in 1u32..4,
        queries in proptest::collection::vec(
            (prop_oneof![Just(""), Just("a"), Just("v1.zip"), Just("v1.zip."), Just("dir/"), Just("a/")],
             prop_oneof![Just(None), Just(Some("/")), Just(Some(".")), Just(Some("a"))],
             1i32..6,
             any::<bool>()),
            1..4),
    ) {
        let tag = format!("{:x}", chosen.len() * 1000 + queries.len());
        let layered_root = scratch_dir(&format!("list-prop-layer-{tag}"));
        let plain_root = scratch_dir(&format!("list-prop-plain-{tag}"));
        let keys: Vec<(String, Vec<u8>)> =
            chosen.iter().enumerate().map(|(i, k)| ((*k).to_owned(), body(i))).collect();
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            // Small backend pages, so that reordering across page boundaries is exercised.
            let config = DeltaConfig::default().list_page_size(inner_page);
            let (service, _) = layered(&layered_root, config);
            let through_layer = client(service);
            let plain = client(plain(plain_root.clone()));
            put_all(&through_layer, &keys).await;
            put_all(&plain, &keys).await;
            let deltas = walk(&layered_root).iter().filter(|p| p.ends_with(".delta")).count();
            assert!(deltas > 0 || !keys.iter().any(|(k, _)| k.ends_with(".zip") || k.ends_with(".bin")));
            for (prefix, delimiter, page, v2) in &queries {
                let ours = list_all(&through_layer, prefix, *delimiter, *page, *v2).await;
                let theirs = list_all(&plain, prefix, *delimiter, *page, *v2).await;
                assert_eq!(ours.keys, theirs.keys, "keys: prefix {prefix:?} delimiter {delimiter:?} page {page} v2 {v2}");
                assert_eq!(ours.prefixes, theirs.prefixes, "prefixes: prefix {prefix:?} delimiter {delimiter:?} page {page} v2 {v2}");
            }
        });
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.to_string_lossy().into_owned());
            }
        }
    }
    out
}
