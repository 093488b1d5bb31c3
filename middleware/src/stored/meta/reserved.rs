//! Client metadata names that collide with DeltaGlider's are refused.

use super::names::is_internal_name;
use crate::s3::error::S3Error;

/// A client metadata name that collides with DeltaGlider's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "metadata key \"x-amz-meta-{name}\" is reserved: names starting with dg- belong to deltaglider"
)]
pub struct ReservedMetadata {
    /// The rejected name (without `x-amz-meta-`).
    pub name: String,
}

/// Rejects client metadata names starting with `dg-` or `dg_`, in any case.
pub fn check_client_name(name: &str) -> Result<(), ReservedMetadata> {
    if is_internal_name(name, false) {
        Err(ReservedMetadata {
            name: name.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Rejects a request whose `x-amz-meta-*` headers use a reserved name.
pub fn check_client_metadata(headers: &http::HeaderMap) -> Result<(), ReservedMetadata> {
    headers
        .keys()
        .filter_map(|name| name.as_str().strip_prefix("x-amz-meta-"))
        .try_for_each(check_client_name)
}

impl From<ReservedMetadata> for S3Error {
    fn from(e: ReservedMetadata) -> Self {
        Self::invalid_argument(e.to_string())
    }
}
