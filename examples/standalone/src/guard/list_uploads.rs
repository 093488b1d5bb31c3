//! ListMultipartUploads for the filesystem backend, which does not implement it: the open
//! uploads on disk, filtered and paged as S3 does, as S3's XML.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use deltaglider::S3Error;
use http::{HeaderValue, Response, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::uploads::Upload;

/// The request's parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    prefix: String,
    delimiter: Option<String>,
    key_marker: String,
    upload_id_marker: Option<String>,
    max_uploads: usize,
    url_encoded: bool,
}

impl Query {
    /// Reads the query string of a `GET /bucket?uploads` request.
    pub(crate) fn parse(query: &str) -> Result<Self, S3Error> {
        let mut parsed = Self {
            max_uploads: 1000,
            ..Self::default()
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(&value.replace('+', " "))
                .decode_utf8()
                .map_err(|_| S3Error::invalid_argument(format!("{name} is not UTF-8")))?
                .into_owned();
            match name {
                "prefix" => parsed.prefix = value,
                "delimiter" => parsed.delimiter = Some(value).filter(|d| !d.is_empty()),
                "key-marker" => parsed.key_marker = value,
                "upload-id-marker" => {
                    parsed.upload_id_marker = Some(value).filter(|m| !m.is_empty())
                }
                "max-uploads" => {
                    let n: i64 = value
                        .parse()
                        .map_err(|_| S3Error::invalid_argument("max-uploads must be an integer"))?;
                    parsed.max_uploads = usize::try_from(n)
                        .map_err(|_| S3Error::invalid_argument("max-uploads must not be negative"))?
                        .min(1000);
                }
                "encoding-type" if value == "url" => parsed.url_encoded = true,
                "encoding-type" => {
                    return Err(S3Error::invalid_argument(format!(
                        "invalid encoding-type {value:?}"
                    )));
                }
                _ => {}
            }
        }
        Ok(parsed)
    }
}

/// One page of a listing.
#[derive(Debug, Default, PartialEq, Eq)]
struct Page {
    uploads: Vec<Upload>,
    prefixes: Vec<String>,
    next: Option<(String, String)>,
}

/// Orders, filters and pages `uploads` (all of one bucket) as S3 does: by key, then by
/// initiation time; a key marker alone skips every upload of that key, with an upload-id
/// marker only those up to that upload; a delimiter rolls keys up into common prefixes.
fn page(mut uploads: Vec<Upload>, query: &Query) -> Page {
    uploads.sort_by(|a, b| (&a.key, a.initiated, &a.id).cmp(&(&b.key, b.initiated, &b.id)));
    let mut skip = uploads.partition_point(|u| {
        u.key < query.key_marker || (u.key == query.key_marker && query.upload_id_marker.is_none())
    });
    if let Some(marker) = &query.upload_id_marker {
        let same_key = uploads[skip..]
            .iter()
            .take_while(|u| u.key == query.key_marker)
            .count();
        skip += uploads[skip..skip + same_key]
            .iter()
            .position(|u| &u.id == marker)
            .map_or_else(
                || {
                    uploads[skip..skip + same_key]
                        .iter()
                        .take_while(|u| u.id.as_str() <= marker.as_str())
                        .count()
                },
                |at| at + 1,
            );
    }
    let mut result = Page::default();
    let mut taken = 0;
    let mut last: Option<(String, String)> = None;
    for upload in uploads.into_iter().skip(skip) {
        let Some(rest) = upload.key.strip_prefix(&query.prefix) else {
            continue;
        };
        let rolled = query.delimiter.as_deref().and_then(|d| {
            rest.find(d)
                .map(|at| format!("{}{}", query.prefix, &rest[..at + d.len()]))
        });
        if let Some(common) = &rolled {
            // A prefix already returned (on this page, or ending the previous one).
            if result.prefixes.last() == Some(common) || *common == query.key_marker {
                continue;
            }
        }
        if taken == query.max_uploads {
            result.next = last;
            return result;
        }
        taken += 1;
        match rolled {
            Some(common) => {
                last = Some((common.clone(), String::new()));
                result.prefixes.push(common);
            }
            None => {
                last = Some((upload.key.clone(), upload.id.clone()));
                result.uploads.push(upload);
            }
        }
    }
    result
}

/// Characters kept as they are under `encoding-type=url` (as S3: unreserved and `/`).
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The ListMultipartUploadsResult document for `uploads` of `bucket`.
pub(crate) fn render(bucket: &str, uploads: Vec<Upload>, query: &Query) -> String {
    let page = page(uploads, query);
    let encode = |text: &str| {
        if query.url_encoded {
            utf8_percent_encode(text, KEEP).to_string()
        } else {
            text.to_owned()
        }
    };
    let mut writer = Writer::new(Vec::new());
    let element = |writer: &mut Writer<Vec<u8>>, name: &str, text: &str| {
        let _ = writer
            .create_element(name)
            .write_text_content(BytesText::new(text));
    };
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let _ = writer
        .create_element("ListMultipartUploadsResult")
        .with_attribute(("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/"))
        .write_inner_content(|w| {
            element(w, "Bucket", bucket);
            element(w, "KeyMarker", &encode(&query.key_marker));
            element(
                w,
                "UploadIdMarker",
                query.upload_id_marker.as_deref().unwrap_or(""),
            );
            if let Some((key, id)) = &page.next {
                element(w, "NextKeyMarker", &encode(key));
                element(w, "NextUploadIdMarker", id);
            }
            if let Some(delimiter) = &query.delimiter {
                element(w, "Delimiter", &encode(delimiter));
            }
            element(w, "Prefix", &encode(&query.prefix));
            if query.url_encoded {
                element(w, "EncodingType", "url");
            }
            element(w, "MaxUploads", &query.max_uploads.to_string());
            element(w, "IsTruncated", &page.next.is_some().to_string());
            for upload in &page.uploads {
                w.create_element("Upload").write_inner_content(|w| {
                    element(w, "Key", &encode(&upload.key));
                    element(w, "UploadId", &upload.id);
                    element(w, "StorageClass", "STANDARD");
                    element(w, "Initiated", &iso8601(upload.initiated));
                    Ok::<_, std::io::Error>(())
                })?;
            }
            for prefix in &page.prefixes {
                w.create_element("CommonPrefixes")
                    .write_inner_content(|w| {
                        element(w, "Prefix", &encode(prefix));
                        Ok::<_, std::io::Error>(())
                    })?;
            }
            Ok::<_, std::io::Error>(())
        });
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

/// Answers `GET /bucket?uploads` (with `query`) for the backend serving `root`.
pub(crate) async fn respond(root: Arc<PathBuf>, bucket: String, query: &str) -> Response<Bytes> {
    let query = match Query::parse(query) {
        Ok(query) => query,
        Err(e) => return e.to_response(),
    };
    let listed = tokio::task::spawn_blocking(move || {
        super::uploads::open_uploads(&root, &bucket).map(|uploads| render(&bucket, uploads, &query))
    })
    .await;
    match listed {
        Ok(Ok(xml)) => {
            let mut response = Response::new(Bytes::from(xml));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            response
        }
        Ok(Err(e)) => S3Error::internal(format!("listing uploads: {e}")).to_response(),
        Err(e) => S3Error::internal(format!("listing uploads: {e}")).to_response(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as S3 writes times in listings.
fn iso8601(at: SystemTime) -> String {
    let s3s_time = s3s::dto::Timestamp::from(at);
    let mut out = Vec::new();
    match s3s_time.format(s3s::dto::TimestampFormat::DateTime, &mut out) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn upload(key: &str, id: &str, at: u64) -> Upload {
        Upload {
            id: id.to_owned(),
            bucket: "b".to_owned(),
            key: key.to_owned(),
            initiated: SystemTime::UNIX_EPOCH + Duration::from_secs(at),
        }
    }

    fn all() -> Vec<Upload> {
        vec![
            upload("b/2.zip", "u4", 4),
            upload("a.zip", "u2", 2),
            upload("a.zip", "u1", 3),
            upload("b/1.zip", "u3", 1),
            upload("c", "u5", 5),
        ]
    }

    fn ids(page: &Page) -> Vec<&str> {
        page.uploads.iter().map(|u| u.id.as_str()).collect()
    }

    #[test]
    fn orders_and_pages_by_key_then_initiation() {
        let q = |s: &str| Query::parse(s).expect("query");
        assert_eq!(
            ids(&page(all(), &q("uploads"))),
            ["u2", "u1", "u3", "u4", "u5"]
        );
        let first = page(all(), &q("uploads&max-uploads=2"));
        assert_eq!(ids(&first), ["u2", "u1"]);
        assert_eq!(first.next, Some(("a.zip".into(), "u1".into())));
        let second = page(
            all(),
            &q("uploads&max-uploads=2&key-marker=a.zip&upload-id-marker=u1"),
        );
        assert_eq!(ids(&second), ["u3", "u4"]);
        let rest = page(
            all(),
            &q("uploads&key-marker=b%2F2.zip&upload-id-marker=u4"),
        );
        assert_eq!((ids(&rest), rest.next.clone()), (vec!["u5"], None));
        // A key marker alone skips that key's uploads.
        assert_eq!(
            ids(&page(all(), &q("uploads&key-marker=a.zip"))),
            ["u3", "u4", "u5"]
        );
        assert_eq!(ids(&page(all(), &q("uploads&prefix=b%2F"))), ["u3", "u4"]);
        let rolled = page(all(), &q("uploads&delimiter=%2F"));
        assert_eq!(ids(&rolled), ["u2", "u1", "u5"]);
        assert_eq!(rolled.prefixes, ["b/"]);
        // A common prefix counts once against max-uploads and is not repeated.
        let first = page(all(), &q("uploads&delimiter=%2F&max-uploads=3"));
        assert_eq!(
            (ids(&first), first.prefixes.clone()),
            (vec!["u2", "u1"], vec!["b/".to_owned()])
        );
        assert_eq!(first.next, Some(("b/".into(), String::new())));
        let next = page(all(), &q("uploads&delimiter=%2F&key-marker=b%2F"));
        assert_eq!(
            (ids(&next), next.prefixes.clone()),
            (vec!["u5"], Vec::<String>::new())
        );
        assert!(page(all(), &q("uploads&max-uploads=0")).uploads.is_empty());
    }

    #[test]
    fn refuses_bad_parameters() {
        for bad in [
            "max-uploads=x",
            "max-uploads=-1",
            "encoding-type=xml",
            "prefix=%FF",
        ] {
            assert_eq!(
                Query::parse(bad).expect_err(bad).code(),
                "InvalidArgument",
                "{bad}"
            );
        }
    }

    #[test]
    fn renders_s3_xml() {
        let q = Query::parse("uploads&encoding-type=url&max-uploads=1").expect("query");
        let xml = render(
            "b",
            vec![upload("a b&<.zip", "u1", 0), upload("z", "u2", 1)],
            &q,
        );
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            "{xml}"
        );
        for part in [
            "<Bucket>b</Bucket>",
            "<Key>a%20b%26%3C.zip</Key>",
            "<UploadId>u1</UploadId>",
            "<IsTruncated>true</IsTruncated>",
            "<NextKeyMarker>a%20b%26%3C.zip</NextKeyMarker>",
            "<NextUploadIdMarker>u1</NextUploadIdMarker>",
            "<Initiated>1970-01-01T00:00:00.000Z</Initiated>",
            "<EncodingType>url</EncodingType>",
        ] {
            assert!(xml.contains(part), "{part} in {xml}");
        }
        let plain = render(
            "b",
            vec![upload("a&b", "u1", 0)],
            &Query::parse("").expect("q"),
        );
        assert!(plain.contains("<Key>a&amp;b</Key>"), "{plain}");
    }
}
