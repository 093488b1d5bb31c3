//! The stored form (`docs/FORMAT.md`): how user keys map to stored keys, the metadata on
//! stored objects, gzip payload recipes, and which of two stored forms of a key is current.
//! Pure functions of bytes and headers; no requests.

pub(crate) mod current;
pub mod keys;
pub mod meta;
pub(crate) mod payload;
