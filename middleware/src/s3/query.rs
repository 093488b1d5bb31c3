//! Query strings the layer writes.

/// Percent-encodes a query value (everything but ASCII letters and digits).
///
/// ```
/// assert_eq!(deltaglider::s3::query::query_value("a b/c"), "a%20b%2Fc");
/// ```
pub fn query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}
