//! The request's listing parameters, and the backend listing request they make.

use percent_encoding::percent_decode_str;

use crate::s3::error::S3Error;
use crate::s3::listing::{self, Echo, Version};
use crate::s3::query::query_value;

/// The request's listing parameters.
pub(super) struct Params {
    /// ListObjectsV2 (else ListObjects).
    pub(super) v2: bool,
    pub(super) prefix: String,
    pub(super) delimiter: Option<String>,
    pub(super) max_keys: usize,
    url_encode: bool,
    fetch_owner: bool,
    start_after: Option<String>,
    token: Option<String>,
    marker: Option<String>,
}

impl Params {
    /// Reads ListObjectsV2's (`v2`) or ListObjects' query.
    pub(super) fn parse(query: &str, v2: bool) -> Result<Self, S3Error> {
        let mut p = Self {
            v2,
            prefix: String::new(),
            delimiter: None,
            max_keys: 1000,
            url_encode: false,
            // ListObjects (v1) always names owners; v2 only when asked.
            fetch_owner: !v2,
            start_after: None,
            token: None,
            marker: None,
        };
        let mut unordered = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            match name {
                "prefix" => p.prefix = value,
                "delimiter" if !value.is_empty() => p.delimiter = Some(value),
                "max-keys" => p.max_keys = max_keys(&value)?,
                "encoding-type" if value == "url" => p.url_encode = true,
                "encoding-type" => {
                    return Err(S3Error::invalid_argument(
                        "Invalid Encoding Method specified in Request",
                    ));
                }
                "fetch-owner" if v2 => p.fetch_owner = value == "true",
                "start-after" if v2 => p.start_after = Some(value),
                "continuation-token" if v2 => p.token = Some(value),
                "marker" if !v2 => p.marker = Some(value),
                "allow-unordered" => unordered = value == "true",
                _ => {}
            }
        }
        if unordered && p.delimiter.is_some() {
            // Ceph's rule for its extension (the layer answers in key order anyway).
            return Err(S3Error::invalid_argument(
                "allow-unordered cannot be used with a delimiter",
            ));
        }
        Ok(p)
    }

    /// The user key after which this page starts.
    pub(super) fn resume(&self) -> Result<Option<String>, S3Error> {
        match &self.token {
            Some(token) => listing::decode_token(token).map(Some),
            None => Ok(self.start_after.clone().or_else(|| self.marker.clone())),
        }
    }

    /// The delimiter the backend may group by itself: not one whose occurrence could end
    /// inside a ".delta" suffix; that one is grouped in user-key space.
    fn backend_delimiter(&self) -> Option<&str> {
        self.delimiter
            .as_deref()
            .filter(|d| !matches!(d.chars().last(), Some('.' | 'd' | 'e' | 'l' | 't' | 'a')))
    }

    /// The query of a backend ListObjectsV2 page of `page_size` keys, from the backend's
    /// continuation `token`, else after the user key `resume`.
    pub(super) fn backend_query(
        &self,
        page_size: u32,
        token: Option<&str>,
        resume: Option<&str>,
    ) -> String {
        // Not `encoding-type=url`, though XML 1.0 cannot carry every character a key may
        // hold: some backends (s3s-fs) echo `<EncodingType>url` without encoding, and
        // decoding their raw keys would turn every `+` into a space.
        let mut query = format!(
            "list-type=2&max-keys={page_size}&prefix={}",
            query_value(&self.prefix)
        );
        if self.fetch_owner {
            query.push_str("&fetch-owner=true");
        }
        if let Some(d) = self.backend_delimiter() {
            query.push_str(&format!("&delimiter={}", query_value(d)));
        }
        match (token, resume) {
            (Some(t), _) => query.push_str(&format!("&continuation-token={}", query_value(t))),
            (None, Some(r)) => query.push_str(&format!("&start-after={}", query_value(r))),
            (None, None) => {}
        }
        query
    }

    /// What the response echoes of this request.
    pub(super) fn echo<'a>(&'a self, bucket: &'a str) -> Echo<'a> {
        Echo {
            bucket,
            prefix: &self.prefix,
            delimiter: self.delimiter.as_deref(),
            max_keys: self.max_keys,
            url_encode: self.url_encode,
            owner: self.fetch_owner,
            version: if self.v2 {
                Version::V2 {
                    start_after: self.start_after.as_deref(),
                    continuation_token: self.token.as_deref(),
                }
            } else {
                Version::V1 {
                    marker: self.marker.as_deref(),
                }
            },
        }
    }

    /// Where the page after one ending at the user key `last` starts: a v2 continuation
    /// token, or a v1 marker (the key itself).
    pub(super) fn next(&self, last: String) -> String {
        if self.v2 {
            listing::encode_token(&last)
        } else {
            last
        }
    }
}

/// `max-keys`: a non-negative integer, of which S3 lists at most 1000.
fn max_keys(value: &str) -> Result<usize, S3Error> {
    let n: i64 = value
        .parse()
        .map_err(|_| S3Error::invalid_argument("max-keys must be an integer"))?;
    if n < 0 {
        return Err(S3Error::invalid_argument("max-keys must not be negative"));
    }
    Ok(n.min(1000) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unordered_listings_are_ordered_and_refused_with_a_delimiter() {
        for v2 in [false, true] {
            assert!(Params::parse("allow-unordered=true&max-keys=6", v2).is_ok());
            let refused = Params::parse("allow-unordered=true&delimiter=%2F", v2);
            assert_eq!(refused.err().map(|e| e.status().as_u16()), Some(400));
        }
    }

    #[test]
    fn backend_pages_follow_the_request() {
        let p = Params::parse("prefix=a%2Bb+c&delimiter=%2F&max-keys=5", true).expect("valid");
        assert_eq!((p.prefix.as_str(), p.max_keys), ("a+b c", 5));
        assert_eq!(
            p.backend_query(100, None, Some("a+b c/x")),
            "list-type=2&max-keys=100&prefix=a%2Bb%20c&delimiter=%2F&start-after=a%2Bb%20c%2Fx"
        );
        // The backend's own token wins over the resume point; v1 names owners.
        let v1 = Params::parse("delimiter=.", false).expect("valid");
        assert_eq!(
            v1.backend_query(7, Some("t"), Some("r")),
            "list-type=2&max-keys=7&prefix=&fetch-owner=true&continuation-token=t"
        );
        assert_eq!(v1.next("a b".into()), "a b");
        assert_eq!(p.next("a b".into()), listing::encode_token("a b"));
        for bad in ["max-keys=-1", "max-keys=x", "encoding-type=base64"] {
            assert!(Params::parse(bad, true).is_err(), "{bad}");
        }
    }
}
