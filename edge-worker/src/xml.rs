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
