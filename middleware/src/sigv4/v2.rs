//! AWS Signature Version 2, which clients that predate SigV4 still send: aws-cli v1's
//! `aws s3 presign`, boto3 with `signature_version='s3'`, s3cmd's `signature_v2`.
//!
//! `Authorization: AWS <access key>:<signature>` or the query parameters
//! `AWSAccessKeyId`, `Expires`, `Signature`; the signature is base64 HMAC-SHA1 of
//!
//! ```text
//! <method>\n<Content-MD5>\n<Content-Type>\n<Date, or Expires>\n
//! <x-amz-* headers: lower-cased, sorted, name:value\n each>
//! <path as sent>[?<signed sub-resources, sorted>]
//! ```
//!
//! The date line is empty when `x-amz-date` is sent (it is then among the `x-amz-*`
//! headers). The body is not signed: its `Content-MD5`, when given, is. Only path-style
//! requests are understood (the layer in front of the DeltaLayer sees no other kind).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http::request::Parts;
use percent_encoding::percent_decode_str;
use sha1::Sha1;

use super::canonical::{QueryParam, parse_amz_date, signatures_match};
use super::config::SigV4Config;
use super::errors::{
    EXPIRED, access_denied, invalid_access_key, invalid_date, signature_mismatch, time_too_skewed,
};
use super::principal::{Principal, Verified};
use super::query_auth::QueryAuth;
use crate::s3::content_md5::base64_encode;
use crate::s3::error::S3Error;

/// The query parameters S3 includes in the canonical resource (the sub-resources and the
/// response header overrides); any other parameter is not signed.
const SIGNED_SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// A SigV2 signature, from the header or the query string.
struct Signed<'a> {
    access_key: &'a str,
    signature: &'a str,
    /// The `Expires` of query authentication, seconds since the epoch.
    expires: Option<u64>,
}

/// Whether `value` (an `Authorization` header) claims SigV2.
pub(crate) fn is_v2_header(value: &[u8]) -> bool {
    value.starts_with(b"AWS ")
}

/// Verifies `Authorization: AWS <access key>:<signature>`.
pub(crate) fn verify_header(config: &SigV4Config, parts: &Parts) -> Result<Verified, S3Error> {
    let value = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let credentials = value.strip_prefix("AWS ").unwrap_or("").trim();
    let (access_key, signature) = credentials
        .split_once(':')
        .filter(|(key, signature)| !key.is_empty() && !signature.is_empty())
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            )
        })?;
    verify(
        config,
        parts,
        &Signed {
            access_key,
            signature,
            expires: None,
        },
    )
}

/// Verifies `?AWSAccessKeyId=…&Expires=…&Signature=…`.
pub(crate) fn verify_query(
    config: &SigV4Config,
    parts: &Parts,
    query: &[QueryParam],
) -> Result<Verified, S3Error> {
    let get = |name: &str| -> Result<&str, S3Error> {
        let mut found = query.iter().filter(|p| p.name == name);
        match (found.next(), found.next()) {
            (Some(param), None) if !param.value.is_empty() => Ok(param.value.as_str()),
            _ => Err(access_denied(
                "Query-string authentication requires the Signature, Expires and \
                 AWSAccessKeyId parameters",
            )),
        }
    };
    let (access_key, signature) = (get("AWSAccessKeyId")?, get("Signature")?);
    let expires = get("Expires")?
        .parse::<u64>()
        .map_err(|_| access_denied("Invalid date (should be seconds since epoch)"))?;
    verify(
        config,
        parts,
        &Signed {
            access_key,
            signature,
            expires: Some(expires),
        },
    )
}

fn verify(config: &SigV4Config, parts: &Parts, signed: &Signed<'_>) -> Result<Verified, S3Error> {
    let clock = config.clock.as_ref().ok_or_else(|| {
        S3Error::internal("SigV2 verification has no clock: set SigV4Config::clock")
    })?;
    let now = clock.now();
    let date_line = match signed.expires {
        Some(expires) => {
            let deadline = UNIX_EPOCH + Duration::from_secs(expires);
            if now > deadline {
                return Err(access_denied(EXPIRED));
            }
            expires.to_string()
        }
        None => {
            let time = request_time(&parts.headers).ok_or_else(invalid_date)?;
            let skew = now.duration_since(time).unwrap_or_else(|e| e.duration());
            if skew > config.max_skew {
                return Err(time_too_skewed());
            }
            // With x-amz-date, that header is signed among the x-amz-* ones instead.
            if parts.headers.contains_key("x-amz-date") {
                String::new()
            } else {
                header_str(&parts.headers, "date").to_owned()
            }
        }
    };
    let secret = config
        .credentials
        .secret_key(signed.access_key)
        .ok_or_else(invalid_access_key)?;
    // A request to a bucket itself (`/bucket`) is signed with the resource `/bucket/`, as
    // S3 canonicalises it (botocore, s3cmd); the path as sent is accepted as well.
    let path = parts.uri.path();
    let bucket_only = path.len() > 1 && !path[1..].contains('/');
    let mut candidates = vec![string_to_sign(parts, &date_line)];
    if bucket_only {
        let resource = canonical_resource(&format!("{path}/"), parts.uri.query());
        candidates.push(string_to_sign_for(parts, &date_line, &resource));
    }
    let mut matched = false;
    for candidate in &candidates {
        matched |= signatures_match(&sign(&secret, candidate.as_bytes())?, signed.signature);
    }
    if !matched {
        tracing::debug!(string_to_sign = ?candidates, "SigV2 signature mismatch");
        return Err(signature_mismatch());
    }
    Ok(Verified {
        principal: Principal::new(signed.access_key, "", signed.expires.is_some()),
        payload: None,
        query_auth: signed.expires.map(|_| QueryAuth::V2),
    })
}

/// The request's time: `x-amz-date` if sent, else `Date`; an HTTP date, an RFC 2822 one
/// with a numeric zone (`Tue, 27 Mar 2007 19:36:42 +0000`, as s3cmd and AWS's examples
/// write it), or ISO 8601 basic.
fn request_time(headers: &HeaderMap) -> Option<SystemTime> {
    let parse = |text: &str| {
        httpdate::parse_http_date(text)
            .ok()
            .or_else(|| parse_rfc2822(text))
            .or_else(|| parse_amz_date(text))
    };
    match headers.get("x-amz-date") {
        Some(value) => parse(value.to_str().ok()?),
        None => parse(headers.get(http::header::DATE)?.to_str().ok()?),
    }
}

/// `[Day,] DD Mon YYYY HH:MM:SS ZONE`, the zone `GMT`, `UTC`, `UT`, `Z` or `±HHMM`.
fn parse_rfc2822(text: &str) -> Option<SystemTime> {
    let text = text.split_once(',').map_or(text, |(_, rest)| rest);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [day, month, year, time, zone] = fields[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    let time: Vec<&str> = time.split(':').collect();
    let [hour, minute, second] = time[..] else {
        return None;
    };
    let basic = format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        hour.parse::<u32>().ok()?,
        minute.parse::<u32>().ok()?,
        second.parse::<u32>().ok()?
    );
    let utc = parse_amz_date(&basic)?;
    let offset = match zone {
        "GMT" | "UTC" | "UT" | "Z" => 0i64,
        _ => {
            let (sign, digits) = match zone.as_bytes().first()? {
                b'+' => (1, &zone[1..]),
                b'-' => (-1, &zone[1..]),
                _ => return None,
            };
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = digits[..2].parse().ok()?;
            let minutes: i64 = digits[2..].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Local time minus its offset is UTC.
    let seconds = Duration::from_secs(offset.unsigned_abs());
    if offset >= 0 {
        utc.checked_sub(seconds)
    } else {
        utc.checked_add(seconds)
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// S3's SigV2 string to sign for `parts`, with `date_line` as its fourth line.
pub(crate) fn string_to_sign(parts: &Parts, date_line: &str) -> String {
    let resource = canonical_resource(parts.uri.path(), parts.uri.query());
    string_to_sign_for(parts, date_line, &resource)
}

fn string_to_sign_for(parts: &Parts, date_line: &str, resource: &str) -> String {
    let mut out = format!(
        "{}\n{}\n{}\n{date_line}\n",
        parts.method,
        header_str(&parts.headers, "content-md5").trim(),
        header_str(&parts.headers, "content-type").trim(),
    );
    out.push_str(&canonical_amz_headers(&parts.headers));
    out.push_str(resource);
    out
}

/// `name:value\n` for each `x-amz-*` header, names lower-case and sorted, repeated
/// headers joined with `,`, values trimmed. Spaces inside a value stay as they are (what
/// botocore signs); the folded lines S3's documentation unfolds cannot occur, HTTP/1.1
/// having deprecated them and `http` refusing them.
fn canonical_amz_headers(headers: &HeaderMap) -> String {
    let mut names: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = String::new();
    for name in names {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The path as sent, then the signed sub-resources sorted by name: `name` alone when sent
/// without `=`, else `name=value` with the value percent-decoded (what botocore and S3
/// compute).
pub fn canonical_resource(path: &str, query: Option<&str>) -> String {
    let mut resource = if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    };
    let mut signed: Vec<(&str, Option<String>)> = query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| {
            let (name, value) = match pair.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (pair, None),
            };
            SIGNED_SUB_RESOURCES.contains(&name).then(|| {
                let value = value.map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned());
                (name, value)
            })
        })
        .collect();
    // Stable: repeated names keep the order they were sent in.
    signed.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (name, value)) in signed.into_iter().enumerate() {
        resource.push(if i == 0 { '?' } else { '&' });
        resource.push_str(name);
        if let Some(value) = value {
            resource.push('=');
            resource.push_str(&value);
        }
    }
    resource
}

/// Base64 HMAC-SHA1 of `string_to_sign` under `secret`.
pub(crate) fn sign(secret: &str, string_to_sign: &[u8]) -> Result<String, S3Error> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|_| S3Error::internal("HMAC rejected its key"))?;
    mac.update(string_to_sign);
    Ok(base64_encode(&mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret of AWS's SigV2 documentation examples.
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("request").into_parts().0
    }

    /// The examples of "Signing and authenticating REST requests" (Amazon S3 user guide),
    /// with the virtual-hosted bucket written path style, as the canonical resource is.
    #[test]
    fn aws_documented_examples() {
        /// Method, path and query, headers, date, signature.
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            (
                "GET",
                "/awsexamplebucket1/photos/puppy.jpg",
                &[],
                "Tue, 27 Mar 2007 19:36:42 +0000",
                "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
            ),
            (
                "PUT",
                "/awsexamplebucket1/photos/puppy.jpg",
                &[("content-type", "image/jpeg")],
                "Tue, 27 Mar 2007 21:15:45 +0000",
                "iqRzw+ileNPu1fhspnRs8nOjjIA=",
            ),
            (
                "GET",
                "/awsexamplebucket1/?prefix=photos&max-keys=50&marker=puppy",
                &[],
                "Tue, 27 Mar 2007 19:42:41 +0000",
                "m0WP8eCtspQl5Ahe6L1SozdX9YA=",
            ),
            (
                "GET",
                "/awsexamplebucket1/?acl",
                &[],
                "Tue, 27 Mar 2007 19:44:46 +0000",
                "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
            ),
        ];
        for (method, uri, headers, date, expected) in cases {
            let request = parts(method, uri, headers);
            let sts = string_to_sign(&request, date);
            assert_eq!(
                sign(SECRET, sts.as_bytes()).expect("sign"),
                *expected,
                "{sts}"
            );
        }
    }

    #[test]
    fn amz_headers_replace_the_date_and_are_canonical() {
        // x-amz-date given (AWS's DELETE example): the Date line is empty, as botocore and
        // S3 compute it.
        let request = parts(
            "DELETE",
            "/awsexamplebucket1/photos/puppy.jpg",
            &[("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000")],
        );
        let sts = string_to_sign(&request, "");
        assert_eq!(
            sts,
            "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n\
             /awsexamplebucket1/photos/puppy.jpg"
        );

        let request = parts(
            "PUT",
            "/b/k",
            &[
                ("X-Amz-Meta-ReviewedBy", "joe@example.com"),
                ("x-amz-meta-reviewedby", "jane@example.com"),
                ("x-amz-meta-filechecksum", "  0x02661779  "),
                ("x-amz-meta-note", "two  spaces"),
                ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
            ],
        );
        assert_eq!(
            string_to_sign(&request, "D"),
            "PUT\n4gJE4saaMU4BqNR0kLY+lw==\n\nD\nx-amz-meta-filechecksum:0x02661779\n\
             x-amz-meta-note:two  spaces\nx-amz-meta-reviewedby:joe@example.com,jane@example.com\n/b/k"
        );
    }

    #[test]
    fn dates_in_the_forms_clients_send() {
        let t = UNIX_EPOCH + Duration::from_secs(1_175_024_202); // 2007-03-27T19:36:42Z
        for text in [
            "Tue, 27 Mar 2007 19:36:42 GMT",
            "Tue, 27 Mar 2007 19:36:42 +0000",
            "27 Mar 2007 21:36:42 +0200",
            "Tue, 27 Mar 2007 18:06:42 -0130",
            "20070327T193642Z",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("date", text.parse().expect("value"));
            assert_eq!(request_time(&headers), Some(t), "{text}");
        }
        for bad in [
            "Tue, 27 Mar 2007 19:36:42 CET",
            "Tue, 27 Foo 2007 19:36:42 GMT",
            "27 Mar 2007",
        ] {
            assert_eq!(parse_rfc2822(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_sub_resources_are_signed_sorted_and_decoded() {
        assert_eq!(canonical_resource("", None), "/");
        assert_eq!(
            canonical_resource(
                "/b/a%20b",
                Some("versionId=v%2B1&prefix=x&uploads&acl=&response-content-type=a%2Fb")
            ),
            "/b/a%20b?acl=&response-content-type=a/b&uploads&versionId=v+1"
        );
        assert_eq!(canonical_resource("/b/k", Some("x-id=GetObject")), "/b/k");
    }
}
