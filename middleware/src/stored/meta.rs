//! DeltaGlider metadata on stored objects (`docs/FORMAT.md`, sections 4 and 5).
//!
//! Writing always uses the canonical `dg-` names (format version 1, or 2 for payload
//! deltas); reading also accepts the legacy names of the Python CLI and DeltaGlider Proxy.
//! Names are given without the `x-amz-meta-` prefix, lowercase, as S3 stores them.
//!
//! - `object`: the fields, as Rust values ([`ObjectMeta`]).
//! - `names`: each field's stored names, canonical first, then legacy aliases.
//! - `read`: [`ObjectMeta::parse`], any version and alias; `error`: why it fails.
//! - `write`: [`ObjectMeta::to_pairs`] and the headers of a write.
//! - `reserved`: client metadata names that collide with DeltaGlider's.

mod error;
mod names;
mod object;
mod read;
mod reserved;
mod write;

#[cfg(test)]
mod tests;

pub use error::MetaError;
pub use names::is_internal_name;
pub(crate) use names::records_original;
pub use object::{Container, FORMAT_VERSION, Kind, ObjectMeta, PayloadDelta, RefInfo};
pub use reserved::{ReservedMetadata, check_client_metadata, check_client_name};
pub(crate) use write::{add_metadata, header_value};
