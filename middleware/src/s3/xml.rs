//! S3 XML documents, read with a real XML parser (quick-xml) and written escaped.
//!
//! Reading flattens a document into its elements, each with its path from the root (local
//! names: namespace prefixes dropped) and its own text, so a reader is a `match` on paths.
//! Entities, character references, CDATA, comments, namespaces and whitespace are the
//! parser's business, never a substring search's; anything that is not one well-formed
//! element tree is [`MalformedXml`] (S3's `400 MalformedXML`). Document type declarations
//! are refused: S3 request bodies never need one, and they are how entity tricks start.
//!
//! ```
//! use deltaglider::xml;
//! let request = xml::parse_delete(
//!     b"<Delete><Object><Key><![CDATA[a&b]]></Key></Object><Quiet> true </Quiet></Delete>",
//! ).unwrap();
//! assert_eq!(request.objects[0].key, "a&b");
//! assert!(request.quiet);
//! assert!(xml::parse_delete(b"<Delete><Object><Key>a</Key></Object>").is_err());
//! ```

use quick_xml::Reader;
use quick_xml::events::Event;

/// Deepest element nesting read; S3 documents are at most four levels deep.
const MAX_DEPTH: usize = 32;

/// Most objects one DeleteObjects request may name (S3's limit).
pub const MAX_DELETE_OBJECTS: usize = 1000;

/// A document that is not one well-formed element tree, or not the expected one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct MalformedXml(String);

/// One element of a document: its path from the root and its own text (the text and
/// CDATA directly inside it, concatenated; child elements' text excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Local names from the root down to this element.
    pub path: Vec<String>,
    /// Its text, entities and character references resolved.
    pub text: String,
}

impl Element {
    /// Whether the path is exactly `names`.
    pub fn is(&self, names: &[&str]) -> bool {
        self.path.len() == names.len() && self.path.iter().zip(names).all(|(a, b)| a == b)
    }
}

/// Every element of `xml` in the order they close (children before their parent).
pub fn elements(xml: &[u8]) -> Result<Vec<Element>, MalformedXml> {
    let bad = |e: &dyn std::fmt::Display| MalformedXml(e.to_string());
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut saw_root = false;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| bad(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if path.is_empty() && saw_root {
                    return Err(MalformedXml("more than one root element".into()));
                }
                if path.len() == MAX_DEPTH {
                    return Err(MalformedXml("elements nested too deep".into()));
                }
                saw_root = true;
                let name = std::str::from_utf8(e.local_name().into_inner())
                    .map_err(|e| bad(&e))?
                    .to_owned();
                path.push(name);
                texts.push(String::new());
                if matches!(event, Event::Empty(_)) {
                    close(&mut path, &mut texts, &mut out);
                }
            }
            Event::End(_) => close(&mut path, &mut texts, &mut out),
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| bad(&e))?;
                if text.contains('\0') {
                    return Err(MalformedXml("a NUL character".into()));
                }
                match texts.last_mut() {
                    Some(own) => own.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(MalformedXml("text outside the root element".into())),
                }
            }
            Event::CData(c) => {
                let text = std::str::from_utf8(&c).map_err(|e| bad(&e))?;
                if text.contains('\0') {
                    return Err(MalformedXml("a NUL character".into()));
                }
                match texts.last_mut() {
                    Some(own) => own.push_str(text),
                    None => return Err(MalformedXml("CDATA outside the root element".into())),
                }
            }
            Event::DocType(_) => return Err(MalformedXml("document type declarations".into())),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(MalformedXml("no root element".into()));
    }
    if !path.is_empty() {
        return Err(MalformedXml(format!("<{}> is not closed", path.join("><"))));
    }
    Ok(out)
}

fn close(path: &mut Vec<String>, texts: &mut Vec<String>, out: &mut Vec<Element>) {
    let text = texts.pop().unwrap_or_default();
    out.push(Element {
        path: path.clone(),
        text,
    });
    path.pop();
}

/// The root element's local name of a document read by [`elements`].
fn root(elements: &[Element]) -> Option<&str> {
    elements
        .last()
        .and_then(|e| e.path.first())
        .map(String::as_str)
}

fn expect_root(elements: &[Element], name: &str) -> Result<(), MalformedXml> {
    match root(elements) {
        Some(root) if root == name => Ok(()),
        other => Err(MalformedXml(format!(
            "the root element is {}, not {name}",
            other.unwrap_or("missing")
        ))),
    }
}

/// One `<Object>` of a DeleteObjects request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteObject {
    /// The key.
    pub key: String,
    /// `<VersionId>`, when given.
    pub version_id: Option<String>,
    /// `<ETag>` (S3's conditional delete: only if the object's ETag matches), when given.
    pub etag: Option<String>,
    /// `<LastModifiedTime>` (conditional delete: only if the object's time matches).
    pub last_modified_time: Option<String>,
    /// `<Size>` (conditional delete: only if the object's size matches).
    pub size: Option<String>,
}

/// A DeleteObjects request (`<Delete>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRequest {
    /// The objects, in request order.
    pub objects: Vec<DeleteObject>,
    /// `<Quiet>true</Quiet>`: report failures only.
    pub quiet: bool,
}

/// Reads a DeleteObjects request: 1 to [`MAX_DELETE_OBJECTS`] objects, each with a
/// non-empty key.
pub fn parse_delete(xml: &[u8]) -> Result<DeleteRequest, MalformedXml> {
    let elements = elements(xml)?;
    expect_root(&elements, "Delete")?;
    let mut request = DeleteRequest::default();
    let mut object = DeleteObject::default();
    let mut key = None;
    for e in elements {
        if e.is(&["Delete", "Object", "Key"]) {
            if key.replace(e.text).is_some() {
                return Err(MalformedXml("an <Object> with two <Key>s".into()));
            }
        } else if e.is(&["Delete", "Object", "VersionId"]) {
            object.version_id = Some(e.text);
        } else if e.is(&["Delete", "Object", "ETag"]) {
            object.etag = Some(e.text);
        } else if e.is(&["Delete", "Object", "LastModifiedTime"]) {
            object.last_modified_time = Some(e.text);
        } else if e.is(&["Delete", "Object", "Size"]) {
            object.size = Some(e.text);
        } else if e.is(&["Delete", "Object"]) {
            let mut object = std::mem::take(&mut object);
            object.key = key.take().unwrap_or_default();
            if object.key.is_empty() {
                return Err(MalformedXml("an <Object> without a <Key>".into()));
            }
            request.objects.push(object);
        } else if e.is(&["Delete", "Quiet"]) {
            request.quiet = match e.text.trim() {
                "true" => true,
                "false" => false,
                other => return Err(MalformedXml(format!("<Quiet>{other}</Quiet>"))),
            };
        }
    }
    if request.objects.is_empty() || request.objects.len() > MAX_DELETE_OBJECTS {
        return Err(MalformedXml(format!(
            "{} objects (give 1 to {MAX_DELETE_OBJECTS})",
            request.objects.len()
        )));
    }
    Ok(request)
}

/// One `<Part>` of a CompleteMultipartUpload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// The part number (1 to 10,000).
    pub number: u16,
    /// The part's ETag, without quotes.
    pub etag: String,
}

/// Reads a CompleteMultipartUpload request: every part has a number from 1 to 10,000 and
/// an ETag (quotes removed).
pub fn parse_complete(xml: &[u8]) -> Result<Vec<CompletedPart>, MalformedXml> {
    let elements = elements(xml)?;
    expect_root(&elements, "CompleteMultipartUpload")?;
    let mut parts = Vec::new();
    let (mut number, mut etag) = (None, None);
    for e in elements {
        if e.is(&["CompleteMultipartUpload", "Part", "PartNumber"]) {
            let n = e
                .text
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| MalformedXml(format!("part number {:?}", e.text)))?;
            number = Some(n);
        } else if e.is(&["CompleteMultipartUpload", "Part", "ETag"]) {
            etag = Some(unquote(&e.text).to_owned());
        } else if e.is(&["CompleteMultipartUpload", "Part"]) {
            match (number.take(), etag.take()) {
                (Some(number), Some(etag)) => parts.push(CompletedPart { number, etag }),
                _ => {
                    return Err(MalformedXml(
                        "a <Part> needs <PartNumber> and <ETag>".into(),
                    ));
                }
            }
        }
    }
    Ok(parts)
}

/// What a backend answered to CompleteMultipartUpload (S3 may answer 200 with an error
/// document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// `<CompleteMultipartUploadResult>`: the object's ETag, without quotes.
    Completed {
        /// The multipart ETag, without quotes.
        etag: String,
    },
    /// `<Error>`: its code.
    Failed {
        /// The S3 error code (empty when the document has none).
        code: String,
    },
}

/// Reads a CompleteMultipartUpload response.
pub fn parse_completion(xml: &[u8]) -> Result<Completion, MalformedXml> {
    let elements = elements(xml)?;
    match root(&elements) {
        Some("Error") => Ok(Completion::Failed {
            code: code_of(&elements).unwrap_or_default(),
        }),
        Some("CompleteMultipartUploadResult") => elements
            .iter()
            .find(|e| e.is(&["CompleteMultipartUploadResult", "ETag"]))
            .map(|e| Completion::Completed {
                etag: unquote(&e.text).to_owned(),
            })
            .ok_or_else(|| MalformedXml("a completion without an <ETag>".into())),
        other => Err(MalformedXml(format!(
            "the root element is {}",
            other.unwrap_or("missing")
        ))),
    }
}

/// The `<Code>` of an S3 `<Error>` document; `None` for anything else.
pub fn error_code(xml: &[u8]) -> Option<String> {
    let elements = elements(xml).ok()?;
    (root(&elements) == Some("Error"))
        .then(|| code_of(&elements))
        .flatten()
}

fn code_of(elements: &[Element]) -> Option<String> {
    elements
        .iter()
        .find(|e| e.is(&["Error", "Code"]))
        .map(|e| e.text.trim().to_owned())
}

/// An ETag without its surrounding whitespace and quotes.
fn unquote(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or(etag)
}

/// Appends `text` escaped for XML element content or attribute values.
///
/// Characters XML 1.0 cannot carry literally become character references: `\r` (a parser
/// would turn it into `\n`) and the other control characters (`&#x1;`: readable by
/// lenient parsers, [`elements`] among them; clients that need strict XML ask for
/// `encoding-type=url`). NUL cannot be carried at all: it is written `&#x0;`, which
/// [`elements`] refuses like every XML parser.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if c < '\u{20}' => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// `text` escaped, as a new string.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

#[cfg(test)]
mod tests;
