//! S3 XML bodies (`deltaglider::xml`): DeleteObjects and CompleteMultipartUpload
//! requests, backend completion and error documents, and escaping.
//!
//! Checks: no panic on any document; what a parser accepts, written back with
//! `xml::escape`, reads back the same; any text, escaped, reads back as itself.
#![no_main]

use deltaglider::xml;
use libfuzzer_sys::fuzz_target;

fn element(out: &mut String, name: &str, text: &str) {
    out.push_str(&format!("<{name}>"));
    xml::escape_into(out, text);
    out.push_str(&format!("</{name}>"));
}

fuzz_target!(|data: &[u8]| {
    let _ = xml::elements(data);
    let _ = xml::parse_completion(data);
    let _ = xml::error_code(data);

    if let Ok(request) = xml::parse_delete(data) {
        let mut doc = String::from("<Delete>");
        element(
            &mut doc,
            "Quiet",
            if request.quiet { "true" } else { "false" },
        );
        for object in &request.objects {
            doc.push_str("<Object>");
            element(&mut doc, "Key", &object.key);
            if let Some(v) = &object.version_id {
                element(&mut doc, "VersionId", v);
            }
            if let Some(e) = &object.etag {
                element(&mut doc, "ETag", e);
            }
            if let Some(t) = &object.last_modified_time {
                element(&mut doc, "LastModifiedTime", t);
            }
            if let Some(s) = &object.size {
                element(&mut doc, "Size", s);
            }
            doc.push_str("</Object>");
        }
        doc.push_str("</Delete>");
        assert_eq!(
            xml::parse_delete(doc.as_bytes()).as_ref(),
            Ok(&request),
            "{doc}"
        );
    }

    if let Ok(parts) = xml::parse_complete(data) {
        let mut doc = String::from("<CompleteMultipartUpload>");
        for part in &parts {
            doc.push_str("<Part>");
            element(&mut doc, "PartNumber", &part.number.to_string());
            element(&mut doc, "ETag", &format!("\"{}\"", part.etag));
            doc.push_str("</Part>");
        }
        doc.push_str("</CompleteMultipartUpload>");
        assert_eq!(
            xml::parse_complete(doc.as_bytes()).as_ref(),
            Ok(&parts),
            "{doc}"
        );
    }

    // NUL is the one character XML cannot carry even as a reference (`escape` writes
    // `&#x0;`, which parsers refuse): keys holding one are listed with encoding-type=url.
    if let Ok(text) = std::str::from_utf8(data).map(|t| t.replace('\0', "")) {
        let text = text.as_str();
        let mut doc = String::from("<Error>");
        element(&mut doc, "Message", text);
        doc.push_str("</Error>");
        let read = xml::elements(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}: {doc:?}"));
        assert_eq!(read[0].text, text, "{doc:?}");
    }
});
