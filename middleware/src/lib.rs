//! DeltaGlider: S3 storage that keeps binary-similar objects as VCDIFF deltas.
//!
//! **Status: the storage-key and metadata rules of `docs/FORMAT.md` are here; the `DeltaLayer` tower
//! middleware is planned work and not built yet.** Nothing in this crate pretends to store
//! or serve objects today.
//!
//! ```
//! use deltaglider::keys;
//! assert_eq!(keys::deltaspace("releases/app/v2.zip"), "releases/app/");
//! assert_eq!(keys::delta_key("releases/app/v2.zip"), "releases/app/v2.zip.delta");
//! assert_eq!(keys::reference_key("releases/app/"), "releases/app/reference.bin");
//! assert!(keys::check_user_key("releases/app/reference.bin").is_err());
//! ```
#![forbid(unsafe_code)]

pub mod keys;
pub mod meta;
