//! The XML documents of the S3 calls the R2 service answers, and the two it reads
//! (DeleteObjects and CompleteMultipartUpload requests).

use deltaglider::xml::escape;

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const NS: &str = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Stored key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Quoted ETag.
    pub etag: String,
    /// Upload time, ISO 8601.
    pub last_modified: String,
}

/// A ListObjectsV2 result page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The request's parameters, echoed.
    pub prefix: &'a str,
    /// `delimiter`.
    pub delimiter: Option<&'a str>,
    /// `max-keys`.
    pub max_keys: u32,
    /// `continuation-token`.
    pub continuation_token: Option<&'a str>,
    /// `start-after`.
    pub start_after: Option<&'a str>,
    /// The objects.
    pub objects: Vec<Listed>,
    /// Common prefixes.
    pub prefixes: Vec<String>,
    /// The token of the next page, when truncated.
    pub next_token: Option<String>,
}

/// Renders a `ListBucketResult` (version 2).
pub fn list_objects_v2(page: &ListPage<'_>) -> String {
    let mut x = format!("{HEAD}<ListBucketResult {NS}>");
    element(&mut x, "Name", page.bucket);
    element(&mut x, "Prefix", page.prefix);
    if let Some(d) = page.delimiter {
        element(&mut x, "Delimiter", d);
    }
    element(&mut x, "MaxKeys", &page.max_keys.to_string());
    let count = page.objects.len() + page.prefixes.len();
    element(&mut x, "KeyCount", &count.to_string());
    let truncated = page.next_token.is_some();
    element(
        &mut x,
        "IsTruncated",
        if truncated { "true" } else { "false" },
    );
    if let Some(t) = page.continuation_token {
        element(&mut x, "ContinuationToken", t);
    }
    if let Some(t) = &page.next_token {
        element(&mut x, "NextContinuationToken", t);
    }
    if let Some(s) = page.start_after {
        element(&mut x, "StartAfter", s);
    }
    for o in &page.objects {
        x.push_str("<Contents>");
        element(&mut x, "Key", &o.key);
        element(&mut x, "LastModified", &o.last_modified);
        element(&mut x, "ETag", &o.etag);
        element(&mut x, "Size", &o.size.to_string());
        element(&mut x, "StorageClass", "STANDARD");
        x.push_str("</Contents>");
    }
    for p in &page.prefixes {
        x.push_str("<CommonPrefixes>");
        element(&mut x, "Prefix", p);
        x.push_str("</CommonPrefixes>");
    }
    x.push_str("</ListBucketResult>");
    x
}

/// Renders a `ListAllMyBucketsResult` of one bucket.
pub fn list_buckets(bucket: &str, created: &str) -> String {
    let mut x = format!("{HEAD}<ListAllMyBucketsResult {NS}><Owner>");
    element(&mut x, "ID", "deltaglider");
    element(&mut x, "DisplayName", "deltaglider");
    x.push_str("</Owner><Buckets><Bucket>");
    element(&mut x, "Name", bucket);
    element(&mut x, "CreationDate", created);
    x.push_str("</Bucket></Buckets></ListAllMyBucketsResult>");
    x
}

/// Renders a `LocationConstraint` (empty for `us-east-1`, as S3 answers).
pub fn location(region: Option<&str>) -> String {
    let region = region.filter(|r| *r != "us-east-1").unwrap_or("");
    let mut x = format!("{HEAD}<LocationConstraint {NS}>");
    x.push_str(&escape(region));
    x.push_str("</LocationConstraint>");
    x
}

/// Renders an empty `ListMultipartUploadsResult`: R2's binding cannot list uploads.
pub fn no_uploads(bucket: &str) -> String {
    let mut x = format!("{HEAD}<ListMultipartUploadsResult {NS}>");
    element(&mut x, "Bucket", bucket);
    element(&mut x, "KeyMarker", "");
    element(&mut x, "UploadIdMarker", "");
    element(&mut x, "MaxUploads", "1000");
    element(&mut x, "IsTruncated", "false");
    x.push_str("</ListMultipartUploadsResult>");
    x
}

/// Renders an `InitiateMultipartUploadResult`.
pub fn initiate_upload(bucket: &str, key: &str, upload_id: &str) -> String {
    let mut x = format!("{HEAD}<InitiateMultipartUploadResult {NS}>");
    element(&mut x, "Bucket", bucket);
    element(&mut x, "Key", key);
    element(&mut x, "UploadId", upload_id);
    x.push_str("</InitiateMultipartUploadResult>");
    x
}

/// Renders a `CompleteMultipartUploadResult`.
pub fn complete_upload(bucket: &str, key: &str, etag: &str) -> String {
    let mut x = format!("{HEAD}<CompleteMultipartUploadResult {NS}>");
    element(&mut x, "Location", &format!("/{bucket}/{key}"));
    element(&mut x, "Bucket", bucket);
    element(&mut x, "Key", key);
    element(&mut x, "ETag", etag);
    x.push_str("</CompleteMultipartUploadResult>");
    x
}

/// Renders a `CopyObjectResult` (`part` false) or `CopyPartResult` (`part` true).
pub fn copy_result(part: bool, etag: &str, last_modified: &str) -> String {
    let name = if part {
        "CopyPartResult"
    } else {
        "CopyObjectResult"
    };
    let mut x = format!("{HEAD}<{name} {NS}>");
    element(&mut x, "LastModified", last_modified);
    element(&mut x, "ETag", etag);
    x.push_str(&format!("</{name}>"));
    x
}

/// Renders a `DeleteResult`: the deleted keys (none when quiet) and the failed ones.
pub fn delete_result(deleted: &[String], failed: &[(String, String)], quiet: bool) -> String {
    let mut x = format!("{HEAD}<DeleteResult {NS}>");
    if !quiet {
        for key in deleted {
            x.push_str("<Deleted>");
            element(&mut x, "Key", key);
            x.push_str("</Deleted>");
        }
    }
    for (key, message) in failed {
        x.push_str("<Error>");
        element(&mut x, "Key", key);
        element(&mut x, "Code", "InternalError");
        element(&mut x, "Message", message);
        x.push_str("</Error>");
    }
    x.push_str("</DeleteResult>");
    x
}

pub use deltaglider::xml::MalformedXml;

/// The keys of a `Delete` request, and whether it is quiet (read by the middleware's
/// S3 XML reader, `deltaglider::xml`).
pub fn parse_delete(xml: &[u8]) -> Result<(Vec<String>, bool), MalformedXml> {
    let request = deltaglider::xml::parse_delete(xml)?;
    let keys = request.objects.into_iter().map(|o| o.key).collect();
    Ok((keys, request.quiet))
}

/// The (part number, unquoted ETag) pairs of a `CompleteMultipartUpload` request.
pub fn parse_complete(xml: &[u8]) -> Result<Vec<(u16, String)>, MalformedXml> {
    let parts = deltaglider::xml::parse_complete(xml)?;
    Ok(parts.into_iter().map(|p| (p.number, p.etag)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing() {
        let page = ListPage {
            bucket: "b",
            prefix: "dir/",
            delimiter: Some("/"),
            max_keys: 2,
            objects: vec![Listed {
                key: "dir/a & b.zip.delta".into(),
                size: 45,
                etag: "\"e\"".into(),
                last_modified: "2026-11-25T10:00:00.000Z".into(),
            }],
            prefixes: vec!["dir/sub/".into()],
            next_token: Some("cursor".into()),
            ..ListPage::default()
        };
        let xml = list_objects_v2(&page);
        assert!(xml.contains("<Key>dir/a &amp; b.zip.delta</Key>"), "{xml}");
        assert!(xml.contains("<ETag>&quot;e&quot;</ETag>"), "{xml}");
        assert!(xml.contains("<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"));
        assert!(xml.contains("<NextContinuationToken>cursor</NextContinuationToken>"));
        assert!(xml.contains("<CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes>"));
        assert!(xml.ends_with("</ListBucketResult>"));
    }

    #[test]
    fn small_documents() {
        assert!(location(None).ends_with("></LocationConstraint>"));
        assert!(location(Some("auto")).contains(">auto<"));
        assert!(list_buckets("b", "2024-01-01T00:00:00.000Z").contains("<Name>b</Name>"));
        assert!(initiate_upload("b", "k", "u1").contains("<UploadId>u1</UploadId>"));
        assert!(complete_upload("b", "k", "\"x-2\"").contains("<ETag>&quot;x-2&quot;</ETag>"));
        assert!(copy_result(true, "\"e\"", "t").starts_with(&format!("{HEAD}<CopyPartResult")));
        let deleted = delete_result(&["a".into()], &[("b".into(), "no".into())], false);
        assert!(deleted.contains("<Deleted><Key>a</Key></Deleted>"));
        assert!(deleted.contains("<Error><Key>b</Key><Code>InternalError</Code>"));
        assert!(!delete_result(&["a".into()], &[], true).contains("Deleted"));
    }

    #[test]
    fn parses_delete_requests() {
        let xml = br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a.zip</Key></Object><Object><Key>x &amp; y</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>"#;
        let (keys, quiet) = parse_delete(xml).expect("valid");
        assert_eq!(keys, vec!["a.zip".to_owned(), "x & y".to_owned()]);
        assert!(quiet);
        assert!(parse_delete(b"<Delete><Object><Key>a</Object>").is_err());
    }

    #[test]
    fn parses_completions() {
        let xml = br#"<CompleteMultipartUpload><Part><ETag>"e1"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part></CompleteMultipartUpload>"#;
        assert_eq!(
            parse_complete(xml).expect("valid"),
            vec![(1, "e1".to_owned()), (2, "e2".to_owned())]
        );
        let bad = b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>";
        assert!(parse_complete(bad).is_err());
    }
}
