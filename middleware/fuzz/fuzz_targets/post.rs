//! Browser uploads (POST Object): the `multipart/form-data` parser, the `boundary` of its
//! content type and the policy document (`deltaglider::sigv4::fuzzing`).
//!
//! Input: flags (bit 0: build mode; bit 1: quote the boundary; bit 2: a preamble; bit 3: a
//! file part; bit 4: raw policy text instead of base64 of the fuzzer's bytes), then:
//!
//! - raw mode: a content type, a policy, a bucket, a file length and a time, then the body
//!   (parsed with the content type's boundary, or the content type itself as one);
//! - build mode: a boundary, a preamble, up to 4 fields (name, value), the file (filename,
//!   data), then up to 6 policy conditions (kind, field, value or bounds), an expiration
//!   and a time, a bucket and the bytes after the file.
//!
//! Checks: no panic on any input; a file part found lies inside the body; a form built
//! validly from the fuzzer's boundary, fields, values and file parses back to them; a
//! policy document built from the fuzzer's conditions and expiration parses back to them,
//! and `Policy::check` of the built form gives what the documented rules give (expired,
//! the first failing condition, extra fields).
#![no_main]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Input, base64};
use deltaglider::sigv4::fuzzing::{
    Condition, Form, PolicyError, boundary, parse_form, parse_policy,
};
use libfuzzer_sys::fuzz_target;

/// The characters RFC 2046 allows in a boundary (space, but not last).
const BCHARS: &[u8] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";

/// A string from the fuzzer's bytes, as a client would build one (lossy UTF-8).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A quoted string for a `Content-Disposition` parameter.
fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A JSON string.
fn json(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` of `secs` after the epoch (civil calendar, H. Hinnant).
fn iso8601(secs: u64, fraction: Option<u16>) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fraction = fraction.map_or(String::new(), |f| format!(".{:03}", f % 1000));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Denied,
    TooSmall,
    TooLarge,
}

fn verdict(result: &Result<(), PolicyError>) -> Verdict {
    match result {
        Ok(()) => Verdict::Ok,
        Err(PolicyError::Denied(_)) => Verdict::Denied,
        Err(PolicyError::TooSmall) => Verdict::TooSmall,
        Err(PolicyError::TooLarge) => Verdict::TooLarge,
        Err(PolicyError::Invalid(m)) => panic!("check answered Invalid: {m}"),
    }
}

/// What S3 documents for a form against a policy: expired, else the first condition that
/// fails, else a field no condition names (but the exempt ones).
fn expected(
    conditions: &[Condition],
    expired: bool,
    fields: &[(String, String)],
    bucket: &str,
    file_len: u64,
) -> Verdict {
    if expired {
        return Verdict::Denied;
    }
    let value = |field: &str| -> Option<&str> {
        if field == "bucket" {
            return Some(bucket);
        }
        fields
            .iter()
            .find(|(n, _)| n.to_ascii_lowercase() == field)
            .map(|(_, v)| v.as_str())
    };
    for condition in conditions {
        match condition {
            Condition::Eq { field, value: want } => {
                if value(field) != Some(want) {
                    return Verdict::Denied;
                }
            }
            Condition::StartsWith { field, prefix } => {
                if !value(field).unwrap_or("").starts_with(prefix.as_str()) {
                    return Verdict::Denied;
                }
            }
            Condition::LengthRange { min, max } => {
                if file_len < *min {
                    return Verdict::TooSmall;
                }
                if file_len > *max {
                    return Verdict::TooLarge;
                }
            }
        }
    }
    for (name, _) in fields {
        let name = name.to_ascii_lowercase();
        let exempt = [
            "policy",
            "signature",
            "awsaccesskeyid",
            "x-amz-signature",
            "file",
        ]
        .contains(&name.as_str())
            || name.starts_with("x-ignore-")
            || name.starts_with("x-amz-checksum-");
        let named = conditions.iter().any(|c| match c {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => *field == name,
            Condition::LengthRange { .. } => false,
        });
        if !exempt && !named {
            return Verdict::Denied;
        }
    }
    Verdict::Ok
}

fn raw(mut input: Input<'_>, flags: u8) {
    let content_type = text(input.bytes(80));
    let policy_bytes = input.bytes(255);
    let bucket = text(input.bytes(16));
    let file_len = u64::from(input.u16());
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(input.u16()) << 16);
    let body = input.rest();
    let found = boundary(&content_type);
    if let Some(b) = found {
        assert!(!b.is_empty() && b.len() <= 70, "boundary {b:?}");
    }
    let form = parse_form(body, found.unwrap_or(&content_type));
    if let Ok(Form {
        file: Some(file), ..
    }) = &form
    {
        assert!(
            file.data.start <= file.data.end && file.data.end <= body.len(),
            "file part {:?} outside a body of {}",
            file.data,
            body.len()
        );
    }
    let policy_text = if flags & 16 != 0 {
        text(policy_bytes)
    } else {
        base64(policy_bytes)
    };
    if let Ok(policy) = parse_policy(&policy_text) {
        let form = form.unwrap_or_default();
        let result = policy.check(&form, &bucket, file_len, now);
        let fields: Vec<(String, String)> = form
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        assert_eq!(
            verdict(&result),
            expected(
                &policy.conditions,
                now > policy.expiration,
                &fields,
                &bucket,
                file_len
            ),
            "{policy:?} {form:?}"
        );
    }
}

fn build(mut input: Input<'_>, flags: u8) {
    // The boundary: 1 to 70 characters of BCHARS, not ending in a space.
    let mut b: String = input
        .bytes(70)
        .iter()
        .map(|&c| char::from(BCHARS[usize::from(c) % BCHARS.len()]))
        .collect();
    if b.ends_with(' ') {
        b.pop();
    }
    if b.is_empty() || b.len() < 70 && b.ends_with(' ') {
        b.push('x');
    }
    let delimiter = format!("\r\n--{b}");
    let content_type = if flags & 2 != 0 || b.contains(' ') {
        format!("multipart/form-data; boundary={}", quoted(&b))
    } else {
        format!("Multipart/Form-Data; charset=utf-8; Boundary={b}")
    };
    assert_eq!(boundary(&content_type), Some(b.as_str()), "{content_type}");

    let mut body = Vec::new();
    if flags & 4 != 0 {
        let preamble = input.bytes(32);
        // A preamble ends at the first CRLF and delimiter, and a body starting with the
        // delimiter has none.
        if preamble.starts_with(format!("--{b}").as_bytes()) || find(preamble, delimiter.as_bytes())
        {
            return;
        }
        body.extend_from_slice(preamble);
        body.extend_from_slice(b"\r\n");
    }
    let mut fields = Vec::new();
    for _ in 0..input.byte() % 5 {
        let name = text(input.bytes(16)).replace(['\r', '\n'], " ");
        let value = text(input.bytes(48));
        if name.eq_ignore_ascii_case("file") || find(value.as_bytes(), delimiter.as_bytes()) {
            return;
        }
        body.extend_from_slice(
            format!(
                "--{b}\r\nContent-Disposition: form-data; name={}\r\n\r\n{value}\r\n",
                quoted(&name)
            )
            .as_bytes(),
        );
        fields.push((name, value));
    }
    let file = if flags & 8 != 0 {
        let filename = input.bytes(16);
        let filename =
            (!filename.is_empty()).then(|| text(&filename[1..]).replace(['\r', '\n'], " "));
        let data = input.bytes(255).to_vec();
        if find(&data, delimiter.as_bytes()) {
            return;
        }
        let filename_param = filename
            .as_deref()
            .map_or(String::new(), |f| format!("; filename={}", quoted(f)));
        body.extend_from_slice(
            format!(
                "--{b}\r\ncontent-disposition: form-data; name=\"File\"{filename_param}\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&data);
        body.extend_from_slice(b"\r\n");
        Some((filename, data))
    } else {
        None
    };

    // The policy: conditions on the fields, the bucket or other names.
    let mut conditions = Vec::new();
    let mut documents = Vec::new();
    let mut invalid = false;
    for _ in 0..input.byte() % 7 {
        let kind = input.byte();
        let pick = usize::from(input.byte());
        let (field, actual) = match pick % (fields.len() + 2) {
            i if i < fields.len() => (fields[i].0.clone(), fields[i].1.clone()),
            i if i == fields.len() => ("bucket".to_owned(), String::new()),
            _ => (text(input.bytes(8)), String::new()),
        };
        let other = text(input.bytes(16));
        // The field's value, a prefix of it, or the fuzzer's text.
        let value = match pick / 16 % 3 {
            0 => actual.clone(),
            1 => actual.chars().take(usize::from(kind >> 4)).collect(),
            _ => other,
        };
        let operator = |name: &str| {
            if kind & 8 != 0 {
                name.to_ascii_uppercase()
            } else {
                name.to_owned()
            }
        };
        match kind % 4 {
            0 => {
                // {"field": "value"}: leading `$` dropped, lower-cased.
                documents.push(format!("{{{}: {}}}", json(&field), json(&value)));
                conditions.push(Condition::Eq {
                    field: field.trim_start_matches('$').to_ascii_lowercase(),
                    value,
                });
            }
            1 | 2 => {
                let (name, condition) = if kind % 4 == 1 {
                    let field = field.to_ascii_lowercase();
                    (
                        "eq",
                        Condition::Eq {
                            field,
                            value: value.clone(),
                        },
                    )
                } else {
                    let field = field.to_ascii_lowercase();
                    (
                        "starts-with",
                        Condition::StartsWith {
                            field,
                            prefix: value.clone(),
                        },
                    )
                };
                documents.push(format!(
                    "[{}, {}, {}]",
                    json(&operator(name)),
                    json(&format!("${field}")),
                    json(&value)
                ));
                conditions.push(condition);
            }
            _ => {
                let (min, max) = (u64::from(input.u16()), u64::from(input.u16()));
                let bound = |n: u64, quoted: bool| {
                    if quoted {
                        format!("\" {n}\"")
                    } else {
                        n.to_string()
                    }
                };
                documents.push(format!(
                    "[{}, {}, {}]",
                    json(&operator("content-length-range")),
                    bound(min, kind & 16 != 0),
                    bound(max, kind & 32 != 0)
                ));
                invalid |= min > max;
                conditions.push(Condition::LengthRange { min, max });
            }
        }
    }
    let expiration_secs = u64::from(input.u16()) << 16 | u64::from(input.u16());
    let fraction = (input.byte() & 1 != 0).then(|| input.u16());
    let now_secs = u64::from(input.u16()) << 16 | u64::from(input.u16());
    let bucket = text(input.bytes(16));
    let document = format!(
        "{{\"expiration\": {}, \"conditions\": [{}]}}",
        json(&iso8601(expiration_secs, fraction)),
        documents.join(", ")
    );
    let policy_field = base64(document.as_bytes());

    // Whatever follows the file (more parts, the close delimiter) is ignored.
    body.extend_from_slice(format!("--{b}").as_bytes());
    body.extend_from_slice(if file.is_some() {
        input.rest()
    } else {
        b"--\r\n"
    });

    let form = parse_form(&body, &b).unwrap_or_else(|e| {
        panic!(
            "a valid form is refused ({e:?}): {:?}",
            String::from_utf8_lossy(&body)
        )
    });
    let parsed: Vec<(String, String)> = form
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    assert_eq!(parsed, fields, "the fields changed");
    match (&form.file, &file) {
        (None, None) => {}
        (Some(part), Some((filename, data))) => {
            assert_eq!(&part.filename, filename, "the filename changed");
            assert_eq!(&body[part.data.clone()], &data[..], "the file changed");
        }
        _ => panic!("file part {:?}, sent {:?}", form.file, file.is_some()),
    }

    let policy = match parse_policy(&policy_field) {
        Ok(policy) => policy,
        Err(PolicyError::Invalid(_)) if invalid => return,
        Err(e) => panic!("a valid policy is refused ({e:?}): {document}"),
    };
    assert!(!invalid, "a range with min > max is accepted: {document}");
    assert_eq!(
        policy.expiration,
        UNIX_EPOCH + Duration::from_secs(expiration_secs),
        "{document}"
    );
    assert_eq!(policy.conditions, conditions, "{document}");
    let now: SystemTime = UNIX_EPOCH + Duration::from_secs(now_secs);
    let file_len = file.as_ref().map_or(0, |(_, data)| data.len() as u64);
    let result = policy.check(&form, &bucket, file_len, now);
    assert_eq!(
        verdict(&result),
        expected(
            &conditions,
            now > policy.expiration,
            &fields,
            &bucket,
            file_len
        ),
        "{document} {fields:?} bucket {bucket:?} file {file_len}: {result:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    if flags & 1 != 0 {
        build(input, flags);
    } else {
        raw(input, flags);
    }
});
