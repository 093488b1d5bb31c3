//! DeltaGlider: S3 storage that keeps binary-similar objects as VCDIFF deltas.
//!
//! [`DeltaLayer`] is a tower layer in front of any S3 service (`Service<http::Request<_>>`):
//! PUTs of eligible keys are stored through the inner service as deltas against a
//! per-prefix reference, and GETs reconstruct them, verified by SHA-256, so clients read
//! and write ordinary whole objects. The storage layout is `docs/FORMAT.md`.
//!
//! **Status — work in progress.** Handled today: PutObject (delta or whole, reference
//! seeded by conditional create, `aws-chunked` bodies, Content-MD5), GetObject (Range,
//! conditional headers, `response-*` overrides), HeadObject and DeleteObject. Not yet:
//! listing translation (ListObjects still shows stored `.delta` keys and references),
//! CopyObject, DeleteObjects, multipart, `x-amz-checksum-*` verification, reference
//! clean-up, metrics, and streaming for objects larger than
//! [`DeltaConfig::max_object_size`] (those are stored whole). Everything else is
//! forwarded untouched.
//!
//! ```
//! use deltaglider::keys;
//! assert_eq!(keys::deltaspace("releases/app/v2.zip"), "releases/app/");
//! assert_eq!(keys::delta_key("releases/app/v2.zip"), "releases/app/v2.zip.delta");
//! assert_eq!(keys::reference_key("releases/app/"), "releases/app/reference.bin");
//! assert!(keys::check_user_key("releases/app/reference.bin").is_err());
//! ```
#![forbid(unsafe_code)]

mod body;
mod cache;
mod chunked;
mod compat;
mod config;
mod copy;
mod delta;
mod error;
mod inner;
pub mod keys;
mod list;
pub mod meta;
mod metrics;
mod multipart;
mod op;
mod range;
mod reference;
mod remove;
mod retrieve;
mod store;
mod time;

pub use body::{BodyError, BoxError, Either, RequestBody, ResponseBody};
pub use cache::CacheStats;
pub use compat::{BoxFuture, MaybeSend};
pub use config::{DEFAULT_EXTENSIONS, DefaultExtensions, DeltaConfig, Eligible};
pub use delta::{Delta, DeltaLayer, ResponseFuture};
pub use error::S3Error;
pub use metrics::{BucketBytes, MetricsSnapshot};
pub use op::{S3Op, S3OpKind};
