//! ListObjects and ListObjectsV2 documents: [`parse`] reads a `ListBucketResult`,
//! [`render`] writes one, with the request's echo, owners and `encoding-type=url` as S3
//! writes them.
//!
//! ```
//! use deltaglider::s3::listing::{self, Echo, Entry, Object, Version};
//!
//! let echo = Echo {
//!     bucket: "releases",
//!     prefix: "",
//!     delimiter: Some("/"),
//!     max_keys: 1000,
//!     url_encode: false,
//!     owner: false,
//!     version: Version::V2 { start_after: None, continuation_token: None },
//! };
//! let entries = [
//!     Entry::Object(Object { key: "a.zip".into(), size: 3, ..Object::default() }),
//!     Entry::Prefix("v1/".into()),
//! ];
//! let xml = listing::render(&echo, &entries, Some("cursor-1"));
//! let page = listing::parse(xml.as_bytes()).unwrap();
//! assert_eq!((page.objects[0].size, page.prefixes.as_slice()), (3, &["v1/".to_owned()][..]));
//! assert_eq!(page.next_token.as_deref(), Some("cursor-1"));
//! ```

use percent_encoding::percent_decode_str;

use super::error::S3Error;
use super::xml::escape_into;

/// One object of a listing.
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
    /// Its `<Owner>`, when listed (`fetch-owner=true`, or v1 listings).
    pub owner: Option<Owner>,
}

/// An object's owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// The owner's canonical ID.
    pub id: String,
    /// The owner's display name.
    pub display_name: String,
}

/// A listing page as parsed, keys decoded.
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
/// space, as S3 writes it).
pub fn parse(xml: &[u8]) -> Result<Page, S3Error> {
    let bad = |e: &dyn std::fmt::Display| S3Error::internal(format!("listing: {e}"));
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

/// One entry of a listing response.
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
#[derive(Debug, Clone, Copy)]
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
    /// Which ListObjects, with the parameters only it has.
    pub version: Version<'a>,
}

/// ListObjects (v1) or ListObjectsV2, with the parameters only that version has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version<'a> {
    /// ListObjects.
    V1 {
        /// `marker`.
        marker: Option<&'a str>,
    },
    /// ListObjectsV2.
    V2 {
        /// `start-after`.
        start_after: Option<&'a str>,
        /// `continuation-token`.
        continuation_token: Option<&'a str>,
    },
}

/// Renders a `ListBucketResult`, v1 or v2 as `echo` says. `entries` are written in the
/// order given. `next`, on a truncated listing, says where the next page starts: v2's
/// `NextContinuationToken`, written as given (tokens are the lister's own, such as
/// [`encode_token`]); v1's `NextMarker`, a key.
pub fn render(echo: &Echo<'_>, entries: &[Entry], next: Option<&str>) -> String {
    let mut doc = Document {
        xml: String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        ),
        url_encode: echo.url_encode,
    };
    doc.request(echo, entries.len(), next);
    for entry in entries {
        match entry {
            Entry::Object(o) => doc.object(o, echo.owner),
            Entry::Prefix(p) => {
                doc.xml.push_str("<CommonPrefixes>");
                doc.key("Prefix", p);
                doc.xml.push_str("</CommonPrefixes>");
            }
        }
    }
    doc.xml.push_str("</ListBucketResult>");
    doc.xml
}

/// A `ListBucketResult` being written.
struct Document {
    xml: String,
    /// `encoding-type=url` was asked for.
    url_encode: bool,
}

impl Document {
    /// `<name>value</name>`, escaped.
    fn tag(&mut self, name: &str, value: &str) {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        escape_into(&mut self.xml, value);
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
    }

    /// A key, prefix or delimiter: percent-encoded first when the request asked for it.
    fn key(&mut self, name: &str, key: &str) {
        if self.url_encode {
            let encoded = percent_encoding::utf8_percent_encode(key, URL).to_string();
            self.tag(name, &encoded);
        } else {
            self.tag(name, key);
        }
    }

    /// Everything before the entries: the request echoed, the count and where the next
    /// page starts.
    fn request(&mut self, echo: &Echo<'_>, count: usize, next: Option<&str>) {
        self.tag("Name", echo.bucket);
        // S3 URL-encodes ListObjects' (v1) own <Prefix> echo never, v2's always (botocore
        // decodes accordingly).
        match echo.version {
            Version::V1 { .. } => self.tag("Prefix", echo.prefix),
            Version::V2 { .. } => self.key("Prefix", echo.prefix),
        }
        if let Some(d) = echo.delimiter {
            self.key("Delimiter", d);
        }
        self.tag("MaxKeys", &echo.max_keys.to_string());
        if echo.url_encode {
            self.tag("EncodingType", "url");
        }
        self.tag("IsTruncated", if next.is_some() { "true" } else { "false" });
        match echo.version {
            Version::V2 {
                start_after,
                continuation_token,
            } => {
                self.tag("KeyCount", &count.to_string());
                if let Some(s) = start_after {
                    self.key("StartAfter", s);
                }
                if let Some(t) = continuation_token {
                    self.tag("ContinuationToken", t);
                }
                if let Some(n) = next {
                    self.tag("NextContinuationToken", n);
                }
            }
            Version::V1 { marker } => {
                self.key("Marker", marker.unwrap_or(""));
                if let Some(n) = next {
                    self.key("NextMarker", n);
                }
            }
        }
    }

    /// One `<Contents>`; its owner only when `owner` (the request asked for owners).
    fn object(&mut self, o: &Object, owner: bool) {
        self.xml.push_str("<Contents>");
        self.key("Key", &o.key);
        if let Some(m) = &o.last_modified {
            self.tag("LastModified", m);
        }
        if let Some(e) = &o.etag {
            self.tag("ETag", e);
        }
        self.tag("Size", &o.size.to_string());
        if let Some(owner) = o.owner.as_ref().filter(|_| owner) {
            self.xml.push_str("<Owner>");
            self.tag("ID", &owner.id);
            self.tag("DisplayName", &owner.display_name);
            self.xml.push_str("</Owner>");
        }
        let class = o.storage_class.as_deref().unwrap_or("STANDARD");
        self.tag("StorageClass", class);
        self.xml.push_str("</Contents>");
    }
}

/// Characters `EncodingType=url` leaves alone.
const URL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// A continuation token that stands for the last key listed. Tokens are opaque to
/// clients; this one is the key hex-encoded, so that it survives any client's handling.
pub fn encode_token(last: &str) -> String {
    last.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The key an [`encode_token`] token stands for.
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
            version: Version::V2 {
                start_after: None,
                continuation_token: None,
            },
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
        echo.version = Version::V1 { marker: None };
        let v1 = render(&echo, &entries, None);
        assert!(v1.contains("<Prefix>&#x1;</Prefix>"), "{v1}");
        assert!(v1.contains("<Key>%01a%0Db%0A%2B%20%26.zip</Key>"), "{v1}");
    }

    #[test]
    fn truncated_pages_say_where_the_next_starts() {
        let mut echo = Echo {
            bucket: "b",
            prefix: "",
            delimiter: Some("/"),
            max_keys: 2,
            url_encode: true,
            owner: false,
            version: Version::V2 {
                start_after: Some("a b"),
                continuation_token: Some("t 0"),
            },
        };
        let entries = [
            Entry::Prefix("a b/".into()),
            Entry::Object(Object {
                key: "c d".into(),
                ..Object::default()
            }),
        ];
        // A v2 token is the lister's own: written as given, never URL-encoded.
        let v2 = render(&echo, &entries, Some("t 1"));
        for part in [
            "<KeyCount>2</KeyCount>",
            "<StartAfter>a%20b</StartAfter>",
            "<ContinuationToken>t 0</ContinuationToken>",
            "<NextContinuationToken>t 1</NextContinuationToken>",
            "<IsTruncated>true</IsTruncated>",
            "<CommonPrefixes><Prefix>a%20b/</Prefix></CommonPrefixes><Contents><Key>c%20d</Key>",
        ] {
            assert!(v2.contains(part), "{part} in {v2}");
        }
        // A v1 marker is a key.
        echo.version = Version::V1 {
            marker: Some("a b"),
        };
        let v1 = render(&echo, &entries, Some("c d"));
        for part in ["<Marker>a%20b</Marker>", "<NextMarker>c%20d</NextMarker>"] {
            assert!(v1.contains(part), "{part} in {v1}");
        }
        assert!(!v1.contains("KeyCount"), "{v1}");
        let last = render(&echo, &entries, None);
        assert!(last.contains("<IsTruncated>false</IsTruncated>"), "{last}");
        assert!(!last.contains("NextMarker"), "{last}");
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
