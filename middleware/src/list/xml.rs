//! The ListObjects XML the backend returns, and the XML the layer returns.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{S3Error, escape_into};

/// One object of a backend listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Object {
    pub(crate) key: String,
    pub(crate) size: u64,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
    pub(crate) storage_class: Option<String>,
    /// The layer's own note: stored as `<key>.delta` (size and ETag come from its metadata).
    pub(crate) delta: bool,
    /// On a delta entry, the listing's `<key>` when it was listed too: which of the two is
    /// current is decided from their metadata (`crate::current`).
    pub(crate) whole_twin: Option<Box<Object>>,
}

/// A backend listing page.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) objects: Vec<Object>,
    pub(crate) prefixes: Vec<String>,
    pub(crate) truncated: bool,
    pub(crate) next_token: Option<String>,
    /// Whether keys are URL-encoded (`EncodingType` was `url`).
    pub(crate) url_encoded: bool,
}

/// Parses a `ListBucketResult` (v1 or v2).
pub(crate) fn parse(xml: &[u8]) -> Result<Page, S3Error> {
    let bad = |e: &dyn std::fmt::Display| S3Error::internal(format!("backend listing: {e}"));
    let mut reader = Reader::from_reader(xml);
    let mut page = Page::default();
    let mut path: Vec<String> = Vec::new();
    let mut object = Object::default();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| bad(&e))? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "Contents" {
                    object = Object::default();
                }
                path.push(name);
            }
            Event::End(_) => {
                let closed = path.pop();
                if closed.as_deref() == Some("Contents") {
                    page.objects.push(std::mem::take(&mut object));
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| bad(&e))?.into_owned();
                let parent = path
                    .len()
                    .checked_sub(2)
                    .and_then(|i| path.get(i))
                    .map(String::as_str);
                match (parent, path.last().map(String::as_str)) {
                    (Some("Contents"), Some("Key")) => object.key = text,
                    (Some("Contents"), Some("Size")) => {
                        object.size = text.trim().parse().map_err(|e| bad(&e))?;
                    }
                    (Some("Contents"), Some("ETag")) => object.etag = Some(text),
                    (Some("Contents"), Some("LastModified")) => object.last_modified = Some(text),
                    (Some("Contents"), Some("StorageClass")) => object.storage_class = Some(text),
                    (Some("CommonPrefixes"), Some("Prefix")) => page.prefixes.push(text),
                    (Some("ListBucketResult"), Some("IsTruncated")) => {
                        page.truncated = text.trim() == "true";
                    }
                    (Some("ListBucketResult"), Some("NextContinuationToken" | "NextMarker")) => {
                        page.next_token = Some(text);
                    }
                    (Some("ListBucketResult"), Some("EncodingType")) => {
                        page.url_encoded = text.trim() == "url";
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(page)
}

/// One entry of the layer's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Object(Object),
    Prefix(String),
}

impl Entry {
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Object(o) => &o.key,
            Self::Prefix(p) => p,
        }
    }
}

/// What the response echoes of the request.
pub(crate) struct Echo<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) prefix: &'a str,
    pub(crate) delimiter: Option<&'a str>,
    pub(crate) max_keys: usize,
    pub(crate) url_encode: bool,
    /// v2: `(start-after, continuation-token)`; v1: `None`.
    pub(crate) v2: Option<(Option<&'a str>, Option<&'a str>)>,
    /// v1: the marker.
    pub(crate) marker: Option<&'a str>,
}

/// Renders a `ListBucketResult`.
pub(crate) fn render(echo: &Echo<'_>, entries: &[Entry], next: Option<&str>) -> String {
    let enc = |s: &str| -> String {
        if echo.url_encode {
            percent_encoding::utf8_percent_encode(s, URL).to_string()
        } else {
            s.to_owned()
        }
    };
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    let tag = |x: &mut String, name: &str, value: &str| {
        x.push('<');
        x.push_str(name);
        x.push('>');
        escape_into(x, value);
        x.push_str("</");
        x.push_str(name);
        x.push('>');
    };
    tag(&mut x, "Name", echo.bucket);
    tag(&mut x, "Prefix", &enc(echo.prefix));
    if let Some(d) = echo.delimiter {
        tag(&mut x, "Delimiter", &enc(d));
    }
    tag(&mut x, "MaxKeys", &echo.max_keys.to_string());
    if echo.url_encode {
        tag(&mut x, "EncodingType", "url");
    }
    tag(
        &mut x,
        "IsTruncated",
        if next.is_some() { "true" } else { "false" },
    );
    match echo.v2 {
        Some((start_after, token)) => {
            let count = entries.len().to_string();
            tag(&mut x, "KeyCount", &count);
            if let Some(s) = start_after {
                tag(&mut x, "StartAfter", &enc(s));
            }
            if let Some(t) = token {
                tag(&mut x, "ContinuationToken", t);
            }
            if let Some(n) = next {
                tag(&mut x, "NextContinuationToken", &encode_token(n));
            }
        }
        None => {
            tag(&mut x, "Marker", &enc(echo.marker.unwrap_or("")));
            if let Some(n) = next {
                tag(&mut x, "NextMarker", &enc(n));
            }
        }
    }
    for entry in entries {
        match entry {
            Entry::Object(o) => {
                x.push_str("<Contents>");
                tag(&mut x, "Key", &enc(&o.key));
                if let Some(m) = &o.last_modified {
                    tag(&mut x, "LastModified", m);
                }
                if let Some(e) = &o.etag {
                    tag(&mut x, "ETag", e);
                }
                tag(&mut x, "Size", &o.size.to_string());
                tag(
                    &mut x,
                    "StorageClass",
                    o.storage_class.as_deref().unwrap_or("STANDARD"),
                );
                x.push_str("</Contents>");
            }
            Entry::Prefix(p) => {
                x.push_str("<CommonPrefixes>");
                tag(&mut x, "Prefix", &enc(p));
                x.push_str("</CommonPrefixes>");
            }
        }
    }
    x.push_str("</ListBucketResult>");
    x
}

/// Characters `EncodingType=url` leaves alone.
const URL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Continuation tokens are opaque to clients; ours is the last user key, hex-encoded so
/// that it survives any client's handling.
pub(crate) fn encode_token(last: &str) -> String {
    last.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The user key a continuation token stands for.
pub(crate) fn decode_token(token: &str) -> Result<String, S3Error> {
    let invalid = || S3Error::invalid_argument("The continuation token provided is incorrect");
    if !token.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_v2_page() {
        let xml = br#"<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken><Contents><Key>a &amp; b.zip.delta</Key><LastModified>2026-11-25T10:00:00.000Z</LastModified><ETag>"e1"</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes></ListBucketResult>"#;
        let page = parse(xml).expect("valid");
        assert_eq!(page.objects.len(), 1);
        assert_eq!(page.objects[0].key, "a & b.zip.delta");
        assert_eq!(page.objects[0].size, 12);
        assert_eq!(page.prefixes, vec!["dir/".to_owned()]);
        assert!(page.truncated);
        assert_eq!(page.next_token.as_deref(), Some("t1"));
    }

    #[test]
    fn tokens_round_trip() {
        for key in ["", "a/b c.zip", "ünïcode/ключ"] {
            assert_eq!(decode_token(&encode_token(key)).ok().as_deref(), Some(key));
        }
        assert!(decode_token("xyz").is_err());
        assert!(decode_token("zz").is_err());
    }
}
