//! The policy of a browser upload: base64 JSON naming an expiration and the conditions
//! every form field must meet. Pure functions.

use std::time::SystemTime;

use serde_json::Value;

use super::super::canonical::parse_amz_date;
use super::form::Form;

/// Why a policy is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not a policy document (400 `InvalidPolicyDocument`).
    Invalid(String),
    /// Expired, or a field fails or escapes the conditions (403 `AccessDenied`).
    Denied(String),
    /// The file is shorter than `content-length-range` allows (400 `EntityTooSmall`).
    TooSmall,
    /// The file is longer than `content-length-range` allows (400 `EntityTooLarge`).
    TooLarge,
}

/// One condition; field names are lower-case, without the `$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `{"field": "value"}` or `["eq", "$field", "value"]`.
    Eq {
        /// The field (`bucket`: the bucket posted to).
        field: String,
        /// Its exact value.
        value: String,
    },
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith {
        /// The field.
        field: String,
        /// What its value starts with (empty: anything).
        prefix: String,
    },
    /// `["content-length-range", min, max]`.
    LengthRange {
        /// The smallest file size allowed.
        min: u64,
        /// The largest.
        max: u64,
    },
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Until when it is valid.
    pub expiration: SystemTime,
    /// What the form must meet.
    pub conditions: Vec<Condition>,
}

/// Fields no condition needs to name: the signature's own, the file, `x-ignore-*`, and
/// checksums (they only verify the file, which the PutObject then does).
fn exempt(field: &str) -> bool {
    matches!(
        field,
        "policy" | "signature" | "awsaccesskeyid" | "x-amz-signature" | "file"
    ) || field.starts_with("x-ignore-")
        || field.starts_with("x-amz-checksum-")
}

fn invalid(detail: impl Into<String>) -> PolicyError {
    PolicyError::Invalid(format!("Invalid Policy: {}", detail.into()))
}

/// Decodes and parses a base64 policy document.
pub fn parse(base64: &str) -> Result<Policy, PolicyError> {
    let json = decode_base64(base64.trim()).ok_or_else(|| invalid("not base64"))?;
    let document: Value =
        serde_json::from_slice(&json).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let object = document
        .as_object()
        .ok_or_else(|| invalid("not a JSON object"))?;
    let expiration = object
        .get("expiration")
        .ok_or_else(|| invalid("Policy missing expiration."))?
        .as_str()
        .and_then(parse_expiration)
        .ok_or_else(|| invalid("Invalid 'expiration' value."))?;
    let list = object
        .get("conditions")
        .ok_or_else(|| invalid("Policy missing conditions."))?
        .as_array()
        .ok_or_else(|| invalid("'conditions' is not a list."))?;
    let mut conditions = Vec::new();
    for item in list {
        conditions.extend(condition(item)?);
    }
    Ok(Policy {
        expiration,
        conditions,
    })
}

fn condition(item: &Value) -> Result<Vec<Condition>, PolicyError> {
    if let Some(object) = item.as_object() {
        if object.is_empty() {
            return Err(invalid("an empty condition"));
        }
        return object
            .iter()
            .map(|(field, value)| {
                let value = value
                    .as_str()
                    .ok_or_else(|| invalid(format!("the value of '{field}' is not a string")))?;
                Ok(Condition::Eq {
                    field: field.trim_start_matches('$').to_ascii_lowercase(),
                    value: value.to_owned(),
                })
            })
            .collect();
    }
    let array = item
        .as_array()
        .ok_or_else(|| invalid("a condition is neither an object nor a list"))?;
    let operator = array.first().and_then(Value::as_str).unwrap_or_default();
    let field = || -> Result<String, PolicyError> {
        array
            .get(1)
            .and_then(Value::as_str)
            .and_then(|f| f.strip_prefix('$'))
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| invalid(format!("condition '{operator}' names no $field")))
    };
    let text = |i: usize| -> Result<String, PolicyError> {
        array
            .get(i)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("condition '{operator}' needs a string")))
    };
    if array.len() != 3 {
        return Err(invalid(format!(
            "condition '{operator}' has {} elements, not 3",
            array.len()
        )));
    }
    // Operators are case-insensitive (the document's own keys are not).
    Ok(vec![match operator.to_ascii_lowercase().as_str() {
        "eq" => Condition::Eq {
            field: field()?,
            value: text(2)?,
        },
        "starts-with" => Condition::StartsWith {
            field: field()?,
            prefix: text(2)?,
        },
        "content-length-range" => {
            let bound = |i: usize| -> Result<u64, PolicyError> {
                let value = &array[i];
                value
                    .as_u64()
                    .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| invalid("content-length-range needs two sizes"))
            };
            let (min, max) = (bound(1)?, bound(2)?);
            if min > max {
                return Err(invalid("content-length-range minimum above its maximum"));
            }
            Condition::LengthRange { min, max }
        }
        other => return Err(invalid(format!("unknown condition '{other}'"))),
    }])
}

impl Policy {
    /// Checks the form against the policy at `now`: not expired, every condition met
    /// (`bucket` is the bucket posted to, `file_len` the file's size), every field not
    /// exempt named by a condition.
    pub fn check(
        &self,
        form: &Form,
        bucket: &str,
        file_len: u64,
        now: SystemTime,
    ) -> Result<(), PolicyError> {
        if now > self.expiration {
            return Err(PolicyError::Denied(
                "Invalid according to Policy: Policy expired.".to_owned(),
            ));
        }
        let value = |field: &str| -> Option<&str> {
            if field == "bucket" {
                Some(bucket)
            } else {
                form.get(field)
            }
        };
        let failed = |what: String| {
            PolicyError::Denied(format!(
                "Invalid according to Policy: Policy Condition failed: {what}"
            ))
        };
        for condition in &self.conditions {
            match condition {
                Condition::Eq { field, value: want } => {
                    if value(field) != Some(want.as_str()) {
                        return Err(failed(format!("[\"eq\", \"${field}\", \"{want}\"]")));
                    }
                }
                Condition::StartsWith { field, prefix } => {
                    let ok = match value(field) {
                        Some(got) => got.starts_with(prefix.as_str()),
                        None => prefix.is_empty(),
                    };
                    if !ok {
                        return Err(failed(format!(
                            "[\"starts-with\", \"${field}\", \"{prefix}\"]"
                        )));
                    }
                }
                Condition::LengthRange { min, max } => {
                    if file_len < *min {
                        return Err(PolicyError::TooSmall);
                    }
                    if file_len > *max {
                        return Err(PolicyError::TooLarge);
                    }
                }
            }
        }
        let named = |field: &str| {
            self.conditions.iter().any(|c| match c {
                Condition::Eq { field: f, .. } | Condition::StartsWith { field: f, .. } => {
                    f == field
                }
                Condition::LengthRange { .. } => false,
            })
        };
        for field in &form.fields {
            let name = field.name.to_ascii_lowercase();
            if !exempt(&name) && !named(&name) {
                return Err(PolicyError::Denied(format!(
                    "Invalid according to Policy: Extra input fields: {}",
                    field.name
                )));
            }
        }
        Ok(())
    }
}

/// `2026-12-04T23:00:00Z` or `2026-12-04T23:00:00.000Z`.
fn parse_expiration(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if !text.is_ascii()
        || b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
    {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let fraction = &text[19..text.len() - 1];
    if !(fraction.is_empty()
        || fraction.len() > 1
            && fraction.starts_with('.')
            && fraction[1..].bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let basic = format!(
        "{}{}{}T{}{}{}Z",
        &text[0..4],
        &text[5..7],
        &text[8..10],
        &text[11..13],
        &text[14..16],
        &text[17..19]
    );
    parse_amz_date(&basic)
}

/// Standard base64 (padding optional, whitespace not allowed).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover character carries fewer than 8 bits: not base64.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::super::form::Field;
    use super::*;
    use crate::s3::content_md5::base64_encode;

    fn policy(json: &str) -> Result<Policy, PolicyError> {
        parse(&base64_encode(json.as_bytes()))
    }

    fn form(fields: &[(&str, &str)]) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(n, v)| Field {
                    name: (*n).to_owned(),
                    value: (*v).to_owned(),
                })
                .collect(),
            file: None,
        }
    }

    fn at(text: &str) -> SystemTime {
        parse_expiration(text).expect("time")
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs(text in "\\PC{0,200}") {
            let _ = parse(&text);
            let _ = parse_expiration(&text);
        }

        #[test]
        fn any_json_document_parses_or_errs(
            expiration in "\\PC{0,30}",
            conditions in proptest::collection::vec("\\PC{0,40}", 0..5),
        ) {
            let json = format!(
                r#"{{"expiration": {}, "conditions": [{}]}}"#,
                serde_json::Value::from(expiration),
                conditions.join(",")
            );
            if let Ok(p) = policy(&json) {
                let _ = p.check(&form(&[("key", "k")]), "b", 1, UNIX_EPOCH);
            }
        }
    }

    #[test]
    fn base64_round_trips() {
        for data in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"abcd",
            &[0xff, 0, 0xfe, 1, 2],
        ] {
            assert_eq!(decode_base64(&base64_encode(data)).as_deref(), Some(data));
        }
        assert_eq!(decode_base64("a"), None);
        assert_eq!(decode_base64("ab c"), None);
    }

    #[test]
    fn expirations() {
        let t = at("2013-05-24T00:00:00Z");
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_369_353_600));
        assert_eq!(at("2013-05-24T00:00:00.250Z"), t);
        for bad in [
            "2013-05-24 00:00:00Z",
            "2013-05-24T00:00:00",
            "2013-05-24T00:00:00.Z",
        ] {
            assert_eq!(parse_expiration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_document_parses() {
        let p = policy(
            r#"{"expiration": "2030-01-01T00:00:00.000Z", "conditions": [
                {"bucket": "b"}, ["StArTs-WiTh", "$Key", "u/"], {"acl": "private"},
                ["eq", "$Content-Type", "text/plain"], ["content-length-range", 1, "10"]]}"#,
        )
        .expect("parses");
        assert_eq!(p.conditions.len(), 5);
        assert_eq!(
            p.conditions[1],
            Condition::StartsWith {
                field: "key".to_owned(),
                prefix: "u/".to_owned()
            }
        );
        assert_eq!(p.conditions[4], Condition::LengthRange { min: 1, max: 10 });
    }

    #[test]
    fn bad_documents_are_invalid() {
        for json in [
            "not json",
            "[]",
            r#"{"conditions": []}"#,
            r#"{"Expiration": "2030-01-01T00:00:00Z", "conditions": []}"#,
            r#"{"expiration": "2030-01-01", "conditions": []}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z"}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": {}}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["ends-with", "$key", ""]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": [["eq", "$key", ""]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "a"]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 0]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 5, 1]]}"#,
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"key": 1}]}"#,
        ] {
            assert!(
                matches!(policy(json), Err(PolicyError::Invalid(_))),
                "{json}"
            );
        }
        assert!(matches!(parse("!!"), Err(PolicyError::Invalid(_))));
    }

    #[test]
    fn conditions_are_checked() {
        let p = policy(
            r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [
                {"bucket": "b"}, ["starts-with", "$key", "u/"], {"acl": "private"},
                ["starts-with", "$Content-Type", ""], ["content-length-range", 1, 10]]}"#,
        )
        .expect("parses");
        let now = at("2029-01-01T00:00:00Z");
        let good = form(&[
            ("KEY", "u/a.txt"),
            ("acl", "private"),
            ("Policy", "…"),
            ("AWSAccessKeyId", "AK"),
            ("signature", "s"),
            ("x-ignore-me", "1"),
            ("x-amz-checksum-crc32", "AAAAAA=="),
        ]);
        assert_eq!(p.check(&good, "b", 5, now), Ok(()));
        let denied =
            |f: &Form, bucket: &str, len: u64, now: SystemTime| p.check(f, bucket, len, now);
        assert!(matches!(
            denied(&good, "b", 5, at("2030-01-01T00:00:01Z")),
            Err(PolicyError::Denied(m)) if m.contains("expired")
        ));
        assert!(matches!(
            denied(&good, "other", 5, now),
            Err(PolicyError::Denied(_))
        ));
        assert_eq!(denied(&good, "b", 0, now), Err(PolicyError::TooSmall));
        assert_eq!(denied(&good, "b", 11, now), Err(PolicyError::TooLarge));
        let wrong_key = form(&[("key", "v/a.txt"), ("acl", "private")]);
        assert!(matches!(
            denied(&wrong_key, "b", 5, now),
            Err(PolicyError::Denied(_))
        ));
        let no_acl = form(&[("key", "u/a")]);
        assert!(matches!(
            denied(&no_acl, "b", 5, now),
            Err(PolicyError::Denied(_))
        ));
        let extra = form(&[("key", "u/a"), ("acl", "private"), ("x-amz-meta-a", "1")]);
        assert!(matches!(
            denied(&extra, "b", 5, now),
            Err(PolicyError::Denied(m)) if m.contains("Extra input fields: x-amz-meta-a")
        ));
    }
}
