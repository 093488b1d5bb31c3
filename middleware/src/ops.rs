//! The S3 operations the layer handles, one module each. An operation calls the reference
//! lifecycle ([`crate::refs`]) and the stored form ([`crate::stored`]), and operations
//! only build on lower ones: `multipart` → `copy` → `get` → `put`; `delete` and `list`
//! stand alone.

pub(crate) mod bucket;
pub(crate) mod copy;
pub(crate) mod delete;
pub(crate) mod get;
pub(crate) mod list;
pub(crate) mod multipart;
pub(crate) mod own_hidden;
pub(crate) mod put;
pub(crate) mod savings;
pub(crate) mod versions;
