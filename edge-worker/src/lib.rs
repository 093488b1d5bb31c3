//! DeltaGlider at the edge: a Cloudflare Worker in front of an R2 bucket.
//!
//! The Worker answers S3 requests with the same stack as the proxy, and no delta logic of
//! its own:
//!
//! ```text
//! client → SigV4 verification → body ingest → DeltaLayer → R2Service → R2 bucket binding
//! ```
//!
//! `#[event(fetch)]` converts the request, runs it through the stack and converts the
//! response. `R2Service` (wasm32 only) speaks the subset of S3 the layer (and whatever it forwards)
//! needs, over the `worker::Bucket` binding: GetObject (ranges, conditions), HeadObject,
//! PutObject (metadata, `If-None-Match: *` as R2's conditional put), CopyObject,
//! DeleteObject, DeleteObjects, ListObjectsV2, multipart uploads, and the bucket calls
//! clients make first (ListBuckets, HeadBucket, CreateBucket, GetBucketLocation).
//!
//! One Worker serves one S3 bucket, the R2 bucket bound as `BUCKET`, under the name in
//! `DELTAGLIDER_BUCKET`; other bucket names are `NoSuchBucket`. Objects are stored in R2
//! under the client's keys, in the layout of `docs/FORMAT.md`, so R2's own S3 endpoint
//! (and the Python DeltaGlider CLI through it) sees the same bucket.
//!
//! Settings (Worker vars; the two keys as secrets) are described in [`Settings`]. The
//! pure parts (request routing, XML, header mapping) build and are tested on every
//! target; the Worker itself only on `wasm32`.
//!
//! Design and limits: `docs/DESIGN.md`, section "Edge worker".
#![forbid(unsafe_code)]

pub mod errors;
pub mod metadata;
pub mod route;
pub mod settings;
pub mod xml;

#[cfg(target_arch = "wasm32")]
mod body;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod r2;

#[cfg(target_arch = "wasm32")]
pub use body::R2Body;
#[cfg(target_arch = "wasm32")]
pub use r2::R2Service;
pub use settings::{Settings, SettingsError};
