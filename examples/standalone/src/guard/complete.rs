//! CompleteMultipartUpload checks the filesystem backend skips.
//!
//! `s3s-fs` 0.14 joins whatever part files it finds under the listed numbers: it accepts
//! any ETag (a client's list that does not match what was uploaded completes silently),
//! it closes the upload before it checks part order and sizes (a refused completion loses
//! the upload), and it accepts only the numbers 1, 2, 3… where S3 accepts any ascending
//! numbers. Here the list is checked against the parts on disk first, as S3 does, and
//! listed parts with gaps between their numbers are renumbered so the backend can join
//! them.

use std::collections::BTreeMap;
use std::path::Path;

use deltaglider::S3Error;
use http::StatusCode;
use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesText, Event};

use super::uploads::{self, Part};

/// The smallest part S3 accepts, except for the last one.
pub(crate) const MIN_PART_SIZE: u64 = 5 << 20;

/// One `<Part>` of the client's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) number: u32,
    /// The ETag without quotes.
    pub(crate) etag: String,
}

fn malformed(why: &str) -> S3Error {
    S3Error::new(
        "MalformedXML",
        StatusCode::BAD_REQUEST,
        format!("The XML you provided was not well-formed or did not validate: {why}"),
    )
}

/// Reads the `CompleteMultipartUpload` document.
pub(crate) fn parse(xml: &[u8]) -> Result<Vec<Listed>, S3Error> {
    let mut reader = Reader::from_reader(xml);
    let mut listed = Vec::new();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let (mut number, mut etag): (Option<String>, Option<String>) = (None, None);
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Err(e) => return Err(malformed(&e.to_string())),
            Ok(Event::Eof) if path.is_empty() => break,
            Ok(Event::Eof) => return Err(malformed("the document ends inside an element")),
            Ok(Event::Start(start)) => {
                path.push(start.local_name().as_ref().to_vec());
                if path.len() == 2 && path[1] == b"Part" {
                    (number, etag) = (None, None);
                }
            }
            Ok(Event::End(_)) => {
                if path.len() == 2 && path[1] == b"Part" {
                    let number = number
                        .take()
                        .and_then(|n| n.trim().parse::<u32>().ok())
                        .filter(|n| (1..=10_000).contains(n))
                        .ok_or_else(|| malformed("a part without a valid PartNumber"))?;
                    let etag = etag
                        .take()
                        .map(|e| e.trim().trim_matches('"').to_owned())
                        .ok_or_else(|| malformed("a part without an ETag"))?;
                    listed.push(Listed { number, etag });
                }
                path.pop();
            }
            Ok(Event::Text(text)) if path.len() == 3 && path[1] == b"Part" => {
                let text = text
                    .unescape()
                    .map_err(|e| malformed(&e.to_string()))?
                    .into_owned();
                match path[2].as_slice() {
                    b"PartNumber" => number.get_or_insert_default().push_str(&text),
                    b"ETag" => etag.get_or_insert_default().push_str(&text),
                    _ => {}
                }
            }
            Ok(_) => {}
        }
        buffer.clear();
    }
    if listed.is_empty() {
        return Err(malformed("You must specify at least one part"));
    }
    Ok(listed)
}

/// Checks the client's list against the parts on disk, as S3 does: ascending part numbers
/// (`InvalidPartOrder`), every listed part uploaded with that ETag (`InvalidPart`), every
/// part but the last at least 5 MiB (`EntityTooSmall`). `etag_of` reads a part's ETag.
pub(crate) fn check(
    listed: &[Listed],
    on_disk: &BTreeMap<u32, Part>,
    etag_of: impl Fn(&Part) -> std::io::Result<String>,
) -> Result<(), S3Error> {
    if listed.is_empty() {
        return Err(malformed("You must specify at least one part"));
    }
    if listed
        .windows(2)
        .any(|pair| pair[0].number >= pair[1].number)
    {
        return Err(S3Error::new(
            "InvalidPartOrder",
            StatusCode::BAD_REQUEST,
            "The list of parts was not in ascending order. The parts list must be specified in \
             order by part number.",
        ));
    }
    let invalid = |number: u32| {
        S3Error::new(
            "InvalidPart",
            StatusCode::BAD_REQUEST,
            format!(
                "One or more of the specified parts could not be found. The part may not have \
                 been uploaded, or the specified entity tag may not match the part's entity \
                 tag (part {number})."
            ),
        )
    };
    for (i, part) in listed.iter().enumerate() {
        let found = on_disk
            .get(&part.number)
            .ok_or_else(|| invalid(part.number))?;
        if i + 1 < listed.len() && found.size < MIN_PART_SIZE {
            return Err(S3Error::new(
                "EntityTooSmall",
                StatusCode::BAD_REQUEST,
                format!(
                    "Your proposed upload is smaller than the minimum allowed object size: part \
                     {} is {} bytes, every part but the last must be at least {MIN_PART_SIZE}",
                    part.number, found.size
                ),
            ));
        }
        let etag = etag_of(found)
            .map_err(|e| S3Error::internal(format!("reading part {}: {e}", part.number)))?;
        if !etag.eq_ignore_ascii_case(&part.etag) {
            return Err(invalid(part.number));
        }
    }
    Ok(())
}

/// Prepares upload `id` for the backend's join after [`check`] passed: when the listed
/// numbers are not 1, 2, 3…, removes the parts not listed (S3 discards them on completion
/// anyway) and renumbers the listed ones in order, and returns the document to send
/// instead. `None`: the client's document is fine as it is.
pub(crate) fn renumber(
    root: &Path,
    id: &str,
    listed: &[Listed],
) -> std::io::Result<Option<Vec<u8>>> {
    if listed.iter().zip(1..).all(|(part, n)| part.number == n) {
        return Ok(None);
    }
    uploads::remove_parts(root, id, |n| listed.iter().any(|p| p.number == n))?;
    let on_disk = uploads::parts(root, id)?;
    // Ascending, so a target number is never a part still waiting to move.
    for (part, n) in listed.iter().zip(1u32..) {
        if part.number != n
            && let Some(found) = on_disk.get(&part.number)
        {
            let target = found
                .path
                .with_file_name(format!(".upload_id-{id}.part-{n}"));
            std::fs::rename(&found.path, target)?;
        }
    }
    Ok(Some(document(listed)))
}

/// A `CompleteMultipartUpload` document listing `listed` as parts 1, 2, 3….
fn document(listed: &[Listed]) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    let _ = writer
        .create_element("CompleteMultipartUpload")
        .with_attribute(("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/"))
        .write_inner_content(|w| {
            for (part, n) in listed.iter().zip(1u32..) {
                w.create_element("Part").write_inner_content(|w| {
                    w.create_element("PartNumber")
                        .write_text_content(BytesText::new(&n.to_string()))?;
                    w.create_element("ETag")
                        .write_text_content(BytesText::new(&format!("\"{}\"", part.etag)))?;
                    Ok::<_, std::io::Error>(())
                })?;
            }
            Ok::<_, std::io::Error>(())
        });
    writer.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn listed(parts: &[(u32, &str)]) -> Vec<Listed> {
        parts
            .iter()
            .map(|(number, etag)| Listed {
                number: *number,
                etag: (*etag).to_owned(),
            })
            .collect()
    }

    fn disk(parts: &[(u32, u64)]) -> BTreeMap<u32, Part> {
        parts
            .iter()
            .map(|(n, size)| {
                (
                    *n,
                    Part {
                        size: *size,
                        path: PathBuf::from(format!("e{n}")),
                    },
                )
            })
            .collect()
    }

    /// The fake ETag of a part: its file name.
    fn name(part: &Part) -> std::io::Result<String> {
        Ok(part.path.to_string_lossy().into_owned())
    }

    #[test]
    fn parses_the_document() {
        let xml = br#"<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Part><ETag>&quot;aa&quot;</ETag><PartNumber>1</PartNumber></Part>
            <Part><PartNumber>3</PartNumber><ETag>"bb"</ETag><ChecksumCRC32>x</ChecksumCRC32></Part>
        </CompleteMultipartUpload>"#;
        assert_eq!(parse(xml).expect("parsed"), listed(&[(1, "aa"), (3, "bb")]));
        for bad in [
            &b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"[..],
            b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part>",
            b"",
        ] {
            let error = parse(bad).expect_err("malformed");
            assert_eq!(error.code(), "MalformedXML", "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn checks_like_s3() {
        let big = MIN_PART_SIZE;
        let on_disk = disk(&[(1, big), (2, big), (3, 10)]);
        let ok = listed(&[(1, "e1"), (2, "e2"), (3, "e3")]);
        assert!(check(&ok, &on_disk, name).is_ok());
        assert!(check(&listed(&[(1, "e1"), (3, "e3")]), &on_disk, name).is_ok());
        let code = |parts: &[(u32, &str)]| {
            check(&listed(parts), &on_disk, name)
                .expect_err("refused")
                .code()
        };
        assert_eq!(code(&[(1, "e1"), (2, "0000")]), "InvalidPart");
        assert_eq!(code(&[(1, "e1"), (4, "e4")]), "InvalidPart");
        assert_eq!(code(&[(2, "e2"), (1, "e1")]), "InvalidPartOrder");
        assert_eq!(code(&[(1, "e1"), (1, "e1")]), "InvalidPartOrder");
        assert_eq!(code(&[(3, "e3"), (4, "e4")]), "EntityTooSmall");
        assert_eq!(code(&[]), "MalformedXML");
        // ETags compare without regard to case (clients echo what they got).
        assert!(check(&listed(&[(1, "E1")]), &disk(&[(1, 1)]), name).is_ok());
    }

    #[test]
    fn renumbers_gaps() {
        let root = std::env::temp_dir().join(format!("dg-complete-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("root");
        let id = "0b5e8c2a-3f41-4d7e-9a10-2c3d4e5f6a7b";
        for n in [1, 2, 3, 5, 7] {
            std::fs::write(
                root.join(format!(".upload_id-{id}.part-{n}")),
                n.to_string(),
            )
            .expect("part");
        }
        let contiguous = listed(&[(1, "a"), (2, "b")]);
        assert_eq!(renumber(&root, id, &contiguous).expect("renumber"), None);
        let gaps = listed(&[(2, "b"), (5, "e"), (7, "g")]);
        let document = renumber(&root, id, &gaps)
            .expect("renumber")
            .expect("rewritten");
        assert_eq!(
            parse(&document).expect("parsed"),
            listed(&[(1, "b"), (2, "e"), (3, "g")])
        );
        let on_disk = uploads::parts(&root, id).expect("parts");
        let contents: Vec<String> = on_disk
            .values()
            .map(|p| std::fs::read_to_string(&p.path).expect("read"))
            .collect();
        assert_eq!(on_disk.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(contents, ["2", "5", "7"]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
