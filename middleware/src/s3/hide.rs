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
/// both as written and percent-decoded, for `encoding-type=url`).
pub fn hide_entries(xml: &str, hidden: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some((start, name, child)) = next_entry(rest) {
        let close = format!("</{name}>");
        let Some(end) = rest[start..].find(&close).map(|e| start + e + close.len()) else {
            break;
        };
        out.push_str(&rest[..start]);
        let entry = &rest[start..end];
        if !names_hidden(entry, child, hidden) {
            out.push_str(entry);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The first entry element in `xml`: its offset, name and naming child.
fn next_entry(xml: &str) -> Option<(usize, &'static str, &'static str)> {
    ENTRIES
        .iter()
        .filter_map(|(name, child)| {
            let open = format!("<{name}>");
            xml.find(&open).map(|at| (at, *name, *child))
        })
        .min_by_key(|(at, _, _)| *at)
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
