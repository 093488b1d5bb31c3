//! DeltaGlider: S3 storage that keeps binary-similar objects as VCDIFF deltas.
//!
//! [`DeltaLayer`] is a tower layer in front of any S3 service (`Service<http::Request<_>>`):
//! PUTs of eligible keys are stored through the inner service as deltas against a
//! per-prefix reference, and GETs reconstruct them, verified by SHA-256, so clients read
//! and write ordinary whole objects. The storage layout is `docs/FORMAT.md`.
//!
//! **Status — work in progress.** Handled: PutObject (delta or whole; the reference
//! seeded by conditional create; Content-MD5 and `x-amz-checksum-*` kept), GetObject (streamed window by window in bounded memory, each window
//! checked and the SHA-256 verified at the end, the body aborted on any mismatch; Range,
//! conditional headers, `response-*` overrides, checksum mode), HeadObject, DeleteObject,
//! DeleteObjects, CopyObject (COPY/REPLACE), multipart uploads (completion stores the
//! object as a delta and keeps its multipart ETag; UploadPartCopy reads delta sources),
//! ListObjectsV2 and ListObjects (user keys in user-key order, original sizes and ETags),
//! and counters ([`DeltaLayer::metrics`]). Everything else is forwarded untouched.
//! A deltaspace may hold several references: a PUT encodes against the most similar of
//! the newest few, and an object becomes a reference of its own when a cost model says
//! so ([`DeltaConfig::references`]). gzip objects (`.tgz`, `.gz`) are stored as deltas of
//! their decompressed payload plus a recipe that recompresses it byte for byte
//! ([`DeltaConfig::gzip_payloads`], feature `gzip`); those are read whole, not streamed.
//!
//! Not yet: `x-amz-copy-source-if-*`, and streaming for objects larger than
//! [`DeltaConfig::max_object_size`] (those are stored whole).
//!
//! # Modules
//!
//! Arrows run one way, top to bottom (`scripts/module-graph middleware/src` checks: no
//! cycles, no module importing from one that calls it):
//!
//! | module | what it holds |
//! |---|---|
//! | [`DeltaLayer`] (`delta/`) | the tower layer, its service and future; `route` classifies a request and hands it to its operation, or forwards it untouched |
//! | `ops/` | one module per S3 call the layer handles: `put` (PutObject), `get` (GetObject, HeadObject, Range, streamed reconstruction), `list` (ListObjects v1/v2), `delete` (DeleteObject(s), conditions), `copy` (CopyObject), `multipart` (completion, UploadPartCopy), `versions` |
//! | `refs/` | the reference lifecycle: `load` (cache, then backend, SHA-256 checked), `listing`, `create` (conditional, never overwriting), `choose` (most similar), `renew` (the cost model), `unused` (removal once nothing names one) |
//! | `call` | one request's context — shared state, inner service, bucket, key — with the bounds on the inner service written once (`Backend`) |
//! | `inner` | the S3 requests the layer itself sends to the inner service |
//! | `state/` | configuration ([`DeltaConfig`]), caches, counters ([`MetricsSnapshot`]), renewal hints, where CPU-heavy work runs |
//! | [`keys`], [`meta`] (`stored/`) | the stored form (`docs/FORMAT.md`): key layout, metadata, gzip payload recipes, which stored form is current |
//! | [`ingest`] | [`IngestLayer`]: every request body decoded (`aws-chunked`) and verified once |
//! | [`sigv4`] | [`SigV4Layer`](sigv4::SigV4Layer): SigV4/SigV2/POST-policy verification |
//! | [`s3`] | the S3 protocol, knowing nothing of deltas: errors, request classification, ranges, time, checksums, listings, XML — shared with the proxy and the edge Worker |
//! | `body`, `compat` | the body types sent inward and returned outward; `Send` where the platform has threads |
//!
//! # Composition
//!
//! The layer rewrites requests (a PUT becomes a PUT of `<key>.delta`, a GET becomes two
//! GETs), so a client's signature cannot be forwarded. Verify the client in front
//! ([`sigv4::SigV4Layer`], which removes the signature once checked), decode and verify
//! request bodies ([`IngestLayer`]), and, when the backend checks signatures, sign what
//! the layer sends with the backend's keys ([`sigv4::SignLayer`]):
//!
//! ```text
//! client → SigV4Layer → IngestLayer → DeltaLayer → [SignLayer → HTTP client] → S3 backend
//! ```
//!
//! A request that did not come through an [`IngestLayer`] is ingested by the layer itself,
//! so no composition forwards `aws-chunked` framing as data. An in-process s3s service
//! runs with authentication off behind the `SigV4Layer` (with none in front, s3s without an
//! auth provider answers signed requests `NotImplemented`).
//!
//! Runnable servers, each run with aws-cli by `scripts/test-examples`:
//! - `examples/s3s_fs.rs`: s3s over a directory (`cargo run -p deltaglider --example s3s_fs`);
//! - `examples/upstream.rs`: in front of another S3 endpoint, a hyper client behind `SignLayer`;
//! - `examples/axum.rs`: an axum app's own routes first, S3 as `Router::fallback_service`
//!   (wrapping the whole router would turn `GET /healthz` into a bucket listing).
//!
//! s3s reports internal failures as `Err`: answer them as 500s (`ServiceBuilder::map_result`,
//! tower's `util` feature; axum's `HandleErrorLayer`, a fallback must be infallible).
//!
//! CPU-heavy work (encoding, verifying, sketching) runs off the async executor, on the
//! crate's own pool of threads, unless [`DeltaConfig::offload`] names another spawner (or
//! [`DeltaConfig::offload_inline`] keeps it in the request's future, as on wasm32).
//!
//! ```
//! use deltaglider::{DeltaConfig, DeltaLayer};
//! use tower::ServiceBuilder;
//! # let inner = tower::service_fn(|_: http::Request<deltaglider::RequestBody<String>>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//! let service = ServiceBuilder::new()
//!     .layer(DeltaLayer::new(DeltaConfig::default().max_delta_ratio(0.5)))
//!     .service(inner);
//! # let _ = service;
//! ```
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
mod call;
mod compat;
mod delta;
mod future;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
mod inner;
mod ledger;
mod listings;
mod ops;
mod refs;
pub mod s3;
pub mod sigv4;
#[cfg(test)]
mod stack_tests;
mod state;
mod stored;

pub use body::{BodyError, BoxError, Contents, Either, RequestBody, ResponseBody, Streamed};
pub use compat::{BoxFuture, MaybeSend};
pub use delta::{Delta, DeltaLayer, ResponseFuture};
pub use ingest::{Ingest, IngestLayer};
pub use s3::{S3Error, S3Op, S3OpKind, xml};
pub use state::cache::CacheStats;
pub use state::config::{DEFAULT_EXTENSIONS, DefaultExtensions, DeltaConfig, Eligible, References};
pub use state::histogram::Histogram;
pub use state::metrics::{BucketBytes, MetricsSnapshot, WholeReason};
pub use state::offload::Job;
pub use stored::{keys, meta};
