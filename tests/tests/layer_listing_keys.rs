//! Keys with characters that URL and XML encodings treat specially list back exactly
//! through the layer (the real `aws-sdk-s3` client, in-process, over `s3s-fs`, which echoes
//! `encoding-type=url` without encoding anything).

use deltaglider_tests::scenario::{put, releases};

#[tokio::test]
async fn special_characters_list_back_exactly() {
    let (_root, s3, _layer) = releases("layer-listing-keys").await;
    let keys = [
        "sp/a+b.txt",
        "sp/a b.zip",
        "sp/100%25.txt",
        "sp/%41.zip",
        "sp/amp&lt.txt",
        "sp/quote\"'.txt",
        "sp/new\nline.txt",
    ];
    for key in keys {
        put(&s3, key, key.as_bytes()).await;
    }
    for prefix in ["sp/", "sp/new\n"] {
        let listed = s3
            .list_objects_v2()
            .bucket("releases")
            .prefix(prefix)
            .send()
            .await
            .expect("list");
        let mut got: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        got.sort_unstable();
        let mut want: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| k.starts_with(prefix))
            .collect();
        want.sort_unstable();
        assert_eq!(got, want, "prefix {prefix:?}");
        assert_eq!(listed.prefix(), Some(prefix));
    }
}
