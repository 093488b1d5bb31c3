//! Query strings: the values the layer writes and the parameters it reads.

/// Percent-encodes a query value (everything but ASCII letters and digits).
///
/// ```
/// assert_eq!(deltaglider::s3::query::query_value("a b/c"), "a%20b%2Fc");
/// ```
pub fn query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The decoded value of query parameter `name` (`Some("")` when it is present bare).
/// `+` is a space, as S3 reads query strings.
///
/// ```
/// use deltaglider::s3::query::param;
/// let query = "list-type=2&prefix=a%2Fb+c&fetch-owner";
/// assert_eq!(param(query, "prefix").as_deref(), Some("a/b c"));
/// assert_eq!(param(query, "fetch-owner").as_deref(), Some(""));
/// assert_eq!(param(query, "start-after"), None);
/// ```
pub fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (n == name).then(|| decode(v))
    })
}

/// A query value percent-decoded, `+` read as a space.
pub fn decode(value: &str) -> String {
    percent_encoding::percent_decode_str(&value.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}
