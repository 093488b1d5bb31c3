//! The ListObjects XML the backend returns, and the XML the layer returns.

use percent_encoding::percent_decode_str;

use super::error::S3Error;
use super::xml::escape_into;

/// One object of a backend listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    /// The key, decoded.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its ETag, quoted as listed.
    pub etag: Option<String>,
    /// When it was last modified (RFC 3339).
    pub last_modified: Option<String>,
    /// Its storage class.
    pub storage_class: Option<String>,
    /// The backend's `<Owner>`, when it gave one (`fetch-owner=true`, or v1 listings).
    pub owner: Option<Owner>,
    /// The layer's own note: stored as `<key>.delta` (size and ETag come from its metadata).
    pub delta: bool,
    /// On a delta entry, the listing's `<key>` when it was listed too: which of the two is
    /// current is decided from their metadata (`crate::stored::current`).
    pub whole_twin: Option<Box<Object>>,
}

/// An object's owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// The owner's canonical ID.
    pub id: String,
    /// The owner's display name.
    pub display_name: String,
}

/// A backend listing page, keys decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The objects, in listing order.
    pub objects: Vec<Object>,
    /// The common prefixes (with a delimiter).
    pub prefixes: Vec<String>,
    /// Whether more pages follow.
    pub truncated: bool,
    /// The continuation token (v2) or next marker (v1) of the next page.
    pub next_token: Option<String>,
}

/// Parses a `ListBucketResult` (v1 or v2). A page that says
/// `<EncodingType>url</EncodingType>` has its keys and prefixes percent-decoded (`+` is a
/// space, as S3 writes it); the layer does not ask for that encoding (see `list`).
pub fn parse(xml: &[u8]) -> Result<Page, S3Error> {
    let bad = |e: &dyn std::fmt::Display| S3Error::internal(format!("backend listing: {e}"));
    let elements = crate::s3::xml::elements(xml).map_err(|e| bad(&e))?;
    let url_encoded = elements
        .iter()
        .any(|e| e.is(&["ListBucketResult", "EncodingType"]) && e.text.trim() == "url");
    let name = |text: String| -> Result<String, S3Error> {
        if !url_encoded {
            return Ok(text);
        }
        percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|k| k.into_owned())
            .map_err(|e| bad(&e))
    };
    let mut page = Page::default();
    let mut object = Object::default();
    for e in elements {
        let [root, rest @ ..] = &e.path[..] else {
            continue;
        };
        if root != "ListBucketResult" {
            return Err(bad(&format!("a <{root}> document")));
        }
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        match rest[..] {
            ["Contents", "Key"] => object.key = name(e.text)?,
            ["Contents", "Size"] => object.size = e.text.trim().parse().map_err(|e| bad(&e))?,
            ["Contents", "ETag"] => object.etag = Some(e.text),
            ["Contents", "LastModified"] => object.last_modified = Some(e.text),
            ["Contents", "StorageClass"] => object.storage_class = Some(e.text),
            ["Contents", "Owner", "ID"] => object.owner.get_or_insert_default().id = e.text,
            ["Contents", "Owner", "DisplayName"] => {
                object.owner.get_or_insert_default().display_name = e.text;
            }
            ["Contents"] => page.objects.push(std::mem::take(&mut object)),
            ["CommonPrefixes", "Prefix"] => page.prefixes.push(name(e.text)?),
            ["IsTruncated"] => page.truncated = e.text.trim() == "true",
            ["NextContinuationToken"] => page.next_token = Some(e.text),
            ["NextMarker"] => page.next_token = Some(name(e.text)?),
            _ => {}
        }
    }
    Ok(page)
}

/// One entry of the layer's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An object (`<Contents>`).
    Object(Object),
    /// A common prefix (`<CommonPrefixes>`).
    Prefix(String),
}

impl Entry {
    /// The key or prefix the entry sorts by.
    pub fn name(&self) -> &str {
        match self {
            Self::Object(o) => &o.key,
            Self::Prefix(p) => p,
        }
    }
}

/// What the response echoes of the request.
pub struct Echo<'a> {
    /// The bucket listed.
    pub bucket: &'a str,
    /// The prefix asked for.
    pub prefix: &'a str,
    /// The delimiter asked for.
    pub delimiter: Option<&'a str>,
    /// `max-keys`.
    pub max_keys: usize,
    /// `encoding-type=url`: keys and prefixes are percent-encoded.
    pub url_encode: bool,
    /// Whether objects name their owner (v1, or v2 with `fetch-owner=true`).
    pub owner: bool,
    /// v2: `(start-after, continuation-token)`; v1: `None`.
    pub v2: Option<(Option<&'a str>, Option<&'a str>)>,
    /// v1: the marker.
    pub marker: Option<&'a str>,
}

/// Renders a `ListBucketResult`.
pub fn render(echo: &Echo<'_>, entries: &[Entry], next: Option<&str>) -> String {
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
    // S3 URL-encodes ListObjects' (v1) own <Prefix> echo never, v2's always (botocore
    // decodes accordingly).
    let prefix = if echo.v2.is_some() {
        enc(echo.prefix)
    } else {
        echo.prefix.to_owned()
    };
    tag(&mut x, "Prefix", &prefix);
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
                if let Some(owner) = o.owner.as_ref().filter(|_| echo.owner) {
                    x.push_str("<Owner>");
                    tag(&mut x, "ID", &owner.id);
                    tag(&mut x, "DisplayName", &owner.display_name);
                    x.push_str("</Owner>");
                }
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
pub fn encode_token(last: &str) -> String {
    last.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The user key a continuation token stands for.
pub fn decode_token(token: &str) -> Result<String, S3Error> {
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
    fn decodes_url_encoded_pages_and_owners() {
        let xml = b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
            <Contents><Key>a%0Ab+c%2B%26.zip.delta</Key><Size>3</Size>\
            <Owner><ID>id&amp;1</ID><DisplayName><![CDATA[M. Tester]]></DisplayName></Owner></Contents>\
            <CommonPrefixes><Prefix>%01dir/</Prefix></CommonPrefixes></ListBucketResult>";
        let page = parse(xml).expect("valid");
        assert_eq!(page.objects[0].key, "a\nb c+&.zip.delta");
        let owner = page.objects[0].owner.clone().expect("owner");
        assert_eq!(
            (owner.id.as_str(), owner.display_name.as_str()),
            ("id&1", "M. Tester")
        );
        assert_eq!(page.prefixes, ["\u{1}dir/"]);
        // Without EncodingType the text is taken as it is.
        let plain = parse(b"<ListBucketResult><Contents><Key>a%41+</Key><Size>1</Size></Contents></ListBucketResult>")
            .expect("valid");
        assert_eq!(plain.objects[0].key, "a%41+");
        for bad in [
            &b"<ListBucketResult><Contents><Key>a</Key>"[..],
            b"<Error><Code>AccessDenied</Code></Error>",
            b"<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%FF</Key></Contents></ListBucketResult>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn renders_any_key() {
        let object = Object {
            key: "\u{1}a\rb\n+ &.zip".into(),
            owner: Some(Owner {
                id: "i".into(),
                display_name: "d".into(),
            }),
            ..Object::default()
        };
        let mut echo = Echo {
            bucket: "b",
            prefix: "\u{1}",
            delimiter: None,
            max_keys: 1000,
            url_encode: true,
            owner: false,
            v2: Some((None, None)),
            marker: None,
        };
        let entries = [Entry::Object(object)];
        let encoded = render(&echo, &entries, None);
        assert!(encoded.contains("<Prefix>%01</Prefix>"), "{encoded}");
        assert!(
            encoded.contains("<Key>%01a%0Db%0A%2B%20%26.zip</Key>"),
            "{encoded}"
        );
        assert!(!encoded.contains("<Owner>"), "{encoded}");
        echo.url_encode = false;
        echo.owner = true;
        let plain = render(&echo, &entries, None);
        let read = crate::s3::xml::elements(plain.as_bytes()).expect("well-formed");
        let key = read
            .iter()
            .find(|e| e.is(&["ListBucketResult", "Contents", "Key"]))
            .expect("key");
        assert_eq!(key.text, "\u{1}a\rb\n+ &.zip");
        assert!(plain.contains("<Owner><ID>i</ID><DisplayName>d</DisplayName></Owner>"));
        // ListObjects (v1) echoes its prefix unencoded even with encoding-type=url.
        echo.url_encode = true;
        echo.v2 = None;
        let v1 = render(&echo, &entries, None);
        assert!(v1.contains("<Prefix>&#x1;</Prefix>"), "{v1}");
        assert!(v1.contains("<Key>%01a%0Db%0A%2B%20%26.zip</Key>"), "{v1}");
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
