//! Why stored metadata could not be read.

use super::object::FORMAT_VERSION;

/// Why stored metadata could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The object is of a newer (or unknown) format version.
    #[error(
        "unsupported deltaglider storage format version {found:?} (this reader supports 1 to {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The `dg-format` value found.
        found: String,
    },
    /// A required field is missing.
    #[error("stored object lacks required metadata {name}")]
    Missing {
        /// The canonical name of the field.
        name: &'static str,
    },
    /// A field has a value of the wrong form.
    #[error("stored metadata {name} has an invalid value {value:?}")]
    Invalid {
        /// The canonical name of the field.
        name: &'static str,
        /// The value found.
        value: String,
    },
    /// A delta names a reference outside its deltaspace or not named like one.
    #[error("delta names {key:?} as its reference, which is not a reference of its deltaspace")]
    ForeignReference {
        /// The reference key found.
        key: String,
    },
}
