//! The canonical request, string to sign and signing key of AWS Signature Version 4.
//!
//! S3 flavour: the path is not normalized (`.`/`..` and `//` stay), and each segment is
//! URI-encoded exactly once: the path as sent is percent-decoded per segment and
//! re-encoded with the SigV4 rules, so an encoded `%2F` stays `%2F` and nothing is
//! double-encoded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http::{HeaderMap, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::s3::error::S3Error;

/// The only algorithm verified.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of nothing, hex.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Everything but the unreserved characters `A-Z a-z 0-9 - _ . ~`.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// SigV4's `UriEncode`: unreserved bytes as they are, every other byte `%XX` (upper case).
pub(crate) fn uri_encode(bytes: &[u8]) -> String {
    percent_encode(bytes, ENCODE).to_string()
}

/// The canonical URI of an S3 request path (see the module docs).
pub(crate) fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| uri_encode(&percent_decode(segment.as_bytes()).collect::<Vec<u8>>()))
        .collect();
    segments.join("/")
}

/// One query parameter: decoded (for looking up `X-Amz-*`) and canonically encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryParam {
    /// The decoded name (lossy UTF-8).
    pub(crate) name: String,
    /// The decoded value (lossy UTF-8).
    pub(crate) value: String,
    encoded_name: String,
    encoded_value: String,
}

/// Splits a raw query string into parameters, decoding as `application/x-www-form-urlencoded`
/// does (`+` is a space) — the way AWS SDKs read a query before signing it.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<QueryParam> {
    let Some(query) = query else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name);
            let value = form_decode(value);
            QueryParam {
                encoded_name: uri_encode(&name),
                encoded_value: uri_encode(&value),
                name: String::from_utf8_lossy(&name).into_owned(),
                value: String::from_utf8_lossy(&value).into_owned(),
            }
        })
        .collect()
}

fn form_decode(text: &str) -> Vec<u8> {
    let text = text.replace('+', " ");
    percent_decode(text.as_bytes()).collect()
}

/// The canonical query string: `name=value` pairs, encoded, sorted by name then value,
/// joined by `&`; parameters named `exclude` (the presigned signature) are left out.
pub(crate) fn canonical_query(params: &[QueryParam], exclude: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|p| exclude != Some(p.name.as_str()))
        .map(|p| (p.encoded_name.as_str(), p.encoded_value.as_str()))
        .collect();
    pairs.sort_unstable();
    let mut out = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The canonical headers block: `name:value\n` for each signed header in the order given.
/// Repeated headers are joined with `,`; values are trimmed and runs of spaces collapsed.
/// An unsent `host` (HTTP/2) is taken from the URI's authority.
pub(crate) fn canonical_headers(headers: &HeaderMap, uri: &Uri, signed: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for name in signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut values = headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_none()
            && name == "host"
            && let Some(authority) = uri.authority()
        {
            push_trimmed(&mut out, authority.as_str().as_bytes());
        }
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out
}

fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    let mut previous_space = false;
    for &b in &value[start..end] {
        if b != b' ' || !previous_space {
            out.push(b);
        }
        previous_space = b == b' ';
    }
}

/// The parts of a canonical request.
#[derive(Debug)]
pub(crate) struct CanonicalRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) uri: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<u8>,
    pub(crate) signed_headers: &'a str,
    pub(crate) payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    /// The canonical request's bytes, newline-separated as the spec lays them out.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.headers.len());
        for part in [self.method, &self.uri, &self.query] {
            out.extend_from_slice(part.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(&self.headers);
        out.push(b'\n');
        out.extend_from_slice(self.signed_headers.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.payload_hash.as_bytes());
        out
    }
}

/// `AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of the canonical request>`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The key derived from a secret for one day, region and service.
#[derive(Clone)]
pub(crate) struct SigningKey([u8; 32]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    pub(crate) fn derive(
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> Result<Self, S3Error> {
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes())?;
        let k_region = hmac(&k_date, region.as_bytes())?;
        let k_service = hmac(&k_region, service.as_bytes())?;
        Ok(Self(hmac(&k_service, b"aws4_request")?))
    }

    /// The hex signature of `string_to_sign`.
    pub(crate) fn sign(&self, string_to_sign: &[u8]) -> Result<String, S3Error> {
        Ok(hex::encode(hmac(&self.0, string_to_sign)?))
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Result<[u8; 32], S3Error> {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| S3Error::internal("HMAC rejected its key"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

/// Compares two signatures in constant time (for equal lengths).
pub(crate) fn signatures_match(computed: &str, provided: &str) -> bool {
    computed.as_bytes().ct_eq(provided.as_bytes()).into()
}

/// Parses an ISO 8601 basic timestamp, `YYYYMMDDTHHMMSSZ`.
pub(crate) fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u64> {
        let digits = &b[from..to];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
    };
    let (year, month, day) = (number(0, 4)?, number(4, 6)?, number(6, 8)?);
    let (hour, minute, second) = (number(9, 11)?, number(11, 13)?, number(13, 15)?);
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm; years from 1970 only).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_is_encoded_once_per_segment() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/b/a%20b/c~d"), "/b/a%20b/c~d");
        assert_eq!(canonical_uri("/b/a%2Fb//./x"), "/b/a%2Fb//./x");
        assert_eq!(canonical_uri("/b/a+b!(%7e)"), "/b/a%2Bb%21%28~%29");
        assert_eq!(canonical_uri("/b/%C3%A9t%c3%a9"), "/b/%C3%A9t%C3%A9");
    }

    #[test]
    fn query_is_sorted_encoded_and_filtered() {
        let params = parse_query(Some("b=2&a=x+y&a=%41&uploads&X-Amz-Signature=s&&c=%7e*"));
        assert_eq!(
            canonical_query(&params, Some("X-Amz-Signature")),
            "a=A&a=x%20y&b=2&c=~%2A&uploads="
        );
        assert_eq!(params[1].value, "x y");
        assert_eq!(canonical_query(&parse_query(None), None), "");
    }

    #[test]
    fn headers_are_trimmed_collapsed_and_joined() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-meta-a", "  a   b  c ".parse().expect("value"));
        headers.append("x-amz-meta-b", "1".parse().expect("value"));
        headers.append("x-amz-meta-b", "2".parse().expect("value"));
        let uri: Uri = "http://example.com:9000/b/k".parse().expect("uri");
        let signed = ["host", "x-amz-meta-a", "x-amz-meta-b"].map(String::from);
        assert_eq!(
            String::from_utf8(canonical_headers(&headers, &uri, &signed)).expect("utf8"),
            "host:example.com:9000\nx-amz-meta-a:a b c\nx-amz-meta-b:1,2\n"
        );
    }

    #[test]
    fn dates_parse() {
        let t = parse_amz_date("20130524T000000Z").expect("date");
        assert_eq!(
            t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs(),
            1_369_353_600
        );
        let t = parse_amz_date("20240229T235959Z").expect("leap day");
        assert_eq!(
            t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs(),
            1_709_251_199
        );
        for bad in [
            "20230229T000000Z",
            "20130524T240000Z",
            "2013-05-24T00:00Z",
            "20130524T00000+Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn signing_key_matches_the_aws_example() {
        // From the AWS SigV4 documentation (GET Object example, Range header).
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        )
        .expect("key");
        let sts = "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
                   7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";
        assert_eq!(
            key.sign(sts.as_bytes()).expect("sign"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }
}
