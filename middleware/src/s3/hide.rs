//! Leaving entries out of listing documents the layer does not otherwise rewrite
//! (ListObjectVersions, listings with parameters it does not merge): every `<Contents>`,
//! `<Version>`, `<DeleteMarker>` or `<CommonPrefixes>` whose key (or prefix) starts with a
//! hidden prefix goes; the rest of the document is kept byte for byte.
//!
//! ```
//! use deltaglider::s3::hide::hide_entries;
//!
//! let xml = "<ListVersionsResult><Version><Key>.dg/a</Key></Version>\
//!            <Version><Key>b</Key></Version></ListVersionsResult>";
//! assert_eq!(
//!     hide_entries(xml, ".dg/"),
//!     "<ListVersionsResult><Version><Key>b</Key></Version></ListVersionsResult>"
//! );
//! ```

use percent_encoding::percent_decode_str;

/// The elements of a listing that each stand for one key or prefix, and the child naming it.
const ENTRIES: &[(&str, &str)] = &[
    ("Contents", "Key"),
    ("Version", "Key"),
    ("DeleteMarker", "Key"),
    ("CommonPrefixes", "Prefix"),
];

/// `xml` without the entries whose key or prefix starts with `hidden` (names compared
/// both as written and percent-decoded, for `encoding-type=url`). One pass: each element
/// kind's next opening tag is searched for again only once the cursor has passed it.
pub fn hide_entries(xml: &str, hidden: &str) -> String {
    let opens: Vec<String> = ENTRIES
        .iter()
        .map(|(name, _)| format!("<{name}>"))
        .collect();
    let find_from = |open: &str, from: usize| xml[from..].find(open).map(|at| from + at);
    let mut next: Vec<Option<usize>> = opens.iter().map(|open| find_from(open, 0)).collect();
    let mut out = String::with_capacity(xml.len());
    let mut copied = 0;
    while let Some((kind, start)) = next
        .iter()
        .enumerate()
        .filter_map(|(kind, at)| at.map(|at| (kind, at)))
        .min_by_key(|(_, at)| *at)
    {
        let (name, child) = ENTRIES[kind];
        let close = format!("</{name}>");
        let Some(end) = find_from(&close, start).map(|at| at + close.len()) else {
            break;
        };
        out.push_str(&xml[copied..start]);
        let entry = &xml[start..end];
        if !names_hidden(entry, child, hidden) {
            out.push_str(entry);
        }
        copied = end;
        for (open, at) in opens.iter().zip(next.iter_mut()) {
            if at.is_some_and(|at| at < end) {
                *at = find_from(open, end);
            }
        }
    }
    out.push_str(&xml[copied..]);
    out
}

/// Whether `entry`'s `<child>` text starts with `hidden`.
fn names_hidden(entry: &str, child: &str, hidden: &str) -> bool {
    let (open, close) = (format!("<{child}>"), format!("</{child}>"));
    let Some(text) = entry
        .find(&open)
        .map(|at| &entry[at + open.len()..])
        .and_then(|text| text.find(&close).map(|end| &text[..end]))
    else {
        return false;
    };
    text.starts_with(hidden)
        || percent_decode_str(text)
            .decode_utf8_lossy()
            .starts_with(hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_entries_go_and_the_rest_stays_byte_for_byte() {
        let xml = "<?xml version=\"1.0\"?><ListVersionsResult><Name>b</Name>\
            <Version><Key>.deltaglider/stats/journal/1.json</Key><VersionId>1</VersionId></Version>\
            <DeleteMarker><Key>.deltaglider%2Fstats%2Fsummary%2F2.json</Key></DeleteMarker>\
            <Version><Key>app.zip</Key><VersionId>2</VersionId></Version>\
            <CommonPrefixes><Prefix>.deltaglider/</Prefix></CommonPrefixes>\
            <CommonPrefixes><Prefix>docs/</Prefix></CommonPrefixes>\
            <Contents><Key>.deltaglider/x</Key></Contents><Contents><Key>k</Key></Contents>\
            </ListVersionsResult>";
        assert_eq!(
            hide_entries(xml, ".deltaglider/"),
            "<?xml version=\"1.0\"?><ListVersionsResult><Name>b</Name>\
            <Version><Key>app.zip</Key><VersionId>2</VersionId></Version>\
            <CommonPrefixes><Prefix>docs/</Prefix></CommonPrefixes>\
            <Contents><Key>k</Key></Contents>\
            </ListVersionsResult>"
        );
    }

    #[test]
    fn documents_without_entries_or_cut_short_are_kept() {
        for xml in [
            "",
            "<Error><Code>x</Code></Error>",
            "<Version><Key>.deltaglider/a",
        ] {
            assert_eq!(hide_entries(xml, ".deltaglider/"), xml);
        }
    }
}
