//! The `multipart/form-data` body of a browser upload (RFC 7578): its fields, then the
//! `file` part. Pure functions over the buffered body.

use std::ops::Range;

/// Why a form does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub &'static str);

/// One form field, its name as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name, as sent (S3 compares names case-insensitively).
    pub name: String,
    /// The value.
    pub value: String,
}

/// The `file` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// `filename` of its `Content-Disposition`, if any.
    pub filename: Option<String>,
    /// Where its bytes are in the body.
    pub data: Range<usize>,
}

/// A parsed form: the fields before the file (S3 ignores anything after it), and the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Form {
    /// Fields in the order sent.
    pub fields: Vec<Field>,
    /// The file part, if there is one.
    pub file: Option<FilePart>,
}

impl Form {
    /// The value of field `name`, compared case-insensitively (the first if repeated).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// Parses `body`, delimited by `boundary`, up to and including the `file` part.
pub fn parse(body: &[u8], boundary: &str) -> Result<Form, FormError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The first delimiter: at the start, or after a preamble ending in CRLF.
    let mut pos = if body.starts_with(delimiter) {
        delimiter.len()
    } else {
        let mut line_delimiter = b"\r\n".to_vec();
        line_delimiter.extend_from_slice(delimiter);
        find(body, &line_delimiter, 0).ok_or(FormError("no boundary"))? + line_delimiter.len()
    };
    let mut next_delimiter = b"\r\n".to_vec();
    next_delimiter.extend_from_slice(delimiter);
    let mut form = Form::default();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(form);
        }
        // Transport padding (spaces, tabs) may follow a delimiter.
        let line_end = find(body, b"\r\n", pos).ok_or(FormError("truncated part"))?;
        if !body[pos..line_end]
            .iter()
            .all(|b| *b == b' ' || *b == b'\t')
        {
            return Err(FormError("garbage after a boundary"));
        }
        let headers_start = line_end + 2;
        let headers_end =
            find(body, b"\r\n\r\n", headers_start).ok_or(FormError("part headers never end"))?;
        // An empty header block: the blank line follows the delimiter line directly.
        let headers = &body[headers_start..headers_end.max(headers_start)];
        let data_start = headers_end + 4;
        let data_end =
            find(body, &next_delimiter, data_start).ok_or(FormError("part never ends"))?;
        let (name, filename) = disposition(headers)?;
        pos = data_end + next_delimiter.len();
        if name.eq_ignore_ascii_case("file") {
            form.file = Some(FilePart {
                filename,
                data: data_start..data_end,
            });
            return Ok(form);
        }
        let value = std::str::from_utf8(&body[data_start..data_end])
            .map_err(|_| FormError("a field is not UTF-8"))?;
        form.fields.push(Field {
            name,
            value: value.to_owned(),
        });
    }
}

/// `name` and `filename` of a part's `Content-Disposition: form-data`.
fn disposition(headers: &[u8]) -> Result<(String, Option<String>), FormError> {
    let headers = std::str::from_utf8(headers).map_err(|_| FormError("part headers not UTF-8"))?;
    let value = headers
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, value)| value)
        .ok_or(FormError("a part has no Content-Disposition"))?;
    let mut params = split_params(value).into_iter();
    if !params
        .next()
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("form-data"))
    {
        return Err(FormError("a part is not form-data"));
    }
    let (mut name, mut filename) = (None, None);
    for param in params {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    Ok((name.ok_or(FormError("a part has no name"))?, filename))
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    out
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, &[u8])], boundary: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for (headers, data) in parts {
            out.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[test]
    fn fields_then_file() {
        let b = "xYz09";
        let data = body(
            &[
                (
                    "Content-Disposition: form-data; name=\"key\"",
                    b"a/${filename}",
                ),
                (
                    "content-disposition: form-data; name=\"x-amz-meta-a\"",
                    b"1;2",
                ),
                (
                    "Content-Disposition: form-data; name=\"file\"; filename=\"r\\\"x;.txt\"\r\n\
                     Content-Type: text/plain",
                    b"line\r\n--xYz0 not the end\r\n",
                ),
                ("Content-Disposition: form-data; name=\"after\"", b"ignored"),
            ],
            b,
        );
        let form = parse(&data, b).expect("parses");
        assert_eq!(form.get("KEY"), Some("a/${filename}"));
        assert_eq!(form.get("x-amz-meta-a"), Some("1;2"));
        assert_eq!(form.get("after"), None);
        let file = form.file.expect("file");
        assert_eq!(file.filename.as_deref(), Some("r\"x;.txt"));
        assert_eq!(&data[file.data], b"line\r\n--xYz0 not the end\r\n");
    }

    proptest::proptest! {
        #[test]
        fn any_body_parses_or_errs(
            body in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"--b".to_vec()),
                    proptest::strategy::Just(b"\r\n".to_vec()),
                    proptest::strategy::Just(b"Content-Disposition: form-data; name=\"file\"".to_vec()),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..8),
                ],
                0..30,
            ),
        ) {
            let body = body.concat();
            if let Ok(Form { file: Some(file), .. }) = parse(&body, "b") {
                proptest::prop_assert!(file.data.end <= body.len());
            }
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("multipart/mixed; boundary=abc"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let b = "bnd";
        let good = body(&[("Content-Disposition: form-data; name=\"k\"", b"v")], b);
        assert!(parse(&good, b).is_ok());
        for bad in [
            &b""[..],
            b"--bnd\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv",
            b"--bnd\r\nContent-Disposition: form-data; name=\"k\"",
            b"--bnd\r\nContent-Type: text/plain\r\n\r\nv\r\n--bnd--",
            b"--bnd\r\nContent-Disposition: attachment; name=\"k\"\r\n\r\nv\r\n--bnd--",
            b"--bndX\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--bnd--",
            b"--bnd\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\n\xff\r\n--bnd--",
        ] {
            assert!(parse(bad, b).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn preamble_is_skipped_and_fields_may_end_the_form() {
        let form = parse(
            b"preamble\r\n--b\r\nContent-Disposition: form-data; name=k\r\n\r\nv\r\n--b--",
            "b",
        )
        .expect("parses");
        assert_eq!(form.get("k"), Some("v"));
        assert!(form.file.is_none());
    }
}
