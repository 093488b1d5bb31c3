//! AWS Signature Version 4 *signing*: a tower layer for the back of the stack, where
//! requests leave for an S3 service that checks signatures.
//!
//! The [`DeltaLayer`](crate::DeltaLayer) rewrites what it forwards (a PUT becomes a delta,
//! a GET becomes a reference read), so a client's signature never fits the request that
//! goes on; [`SignLayer`] signs each request again with the backend's own credentials:
//!
//! ```text
//! client → SigV4Layer → IngestLayer → DeltaLayer → SignLayer → HTTP client → S3 backend
//! ```
//!
//! It adds `Authorization`, `x-amz-date`, `x-amz-content-sha256` (and
//! `x-amz-security-token` with a session token), replacing any the request carried, and a
//! `Host` taken from the URI when there is none: give the inner service absolute URIs
//! (`http://backend:9000/bucket/key`), re-addressed before this layer. Every header is
//! signed but the ones a connection may change on the way (`user-agent`, `expect`,
//! `transfer-encoding` and the other hop-by-hop headers), S3's rule that `host` and every
//! `x-amz-*` header be signed included. The canonical request is the one the
//! [`SigV4Layer`](super::SigV4Layer) verifies (`canonical.rs`): the path as sent, each
//! segment encoded once, as S3 and the AWS SDKs' S3 clients build it.
//!
//! # The payload
//!
//! An empty body (its size hint exactly 0) is signed with the empty body's SHA-256; any
//! other with `UNSIGNED-PAYLOAD`: hashing a body before sending it would mean buffering it
//! whole, and the body was already checked where it came in (the
//! [`IngestLayer`](crate::IngestLayer) verifies what the client signed). Use HTTPS to the
//! backend where the network between is not trusted.
//!
//! # Whose requests are signed
//!
//! By default only requests carrying a [`Principal`](super::Principal), the mark of a
//! client the [`SigV4Layer`](super::SigV4Layer) verified; the DeltaLayer's own requests
//! carry their client request's extensions, so they follow it. An anonymous client (let
//! through by [`SigV4Config::allow_anonymous`](super::SigV4Config::allow_anonymous)) then
//! stays anonymous at the backend, whose rules decide, instead of acting with the
//! backend's credentials. Without a `SigV4Layer` in front (a service that verifies no
//! client, or does so itself) set [`SignConfig::sign_anonymous`].
//!
//! # Errors
//!
//! Failures are answered as S3 XML error responses; the inner service is not called.
//!
//! | Failure | Code | Status |
//! |---|---|---|
//! | a header value that is not visible ASCII (it cannot be signed as the backend reads it) | `InvalidArgument` | 400 |
//! | no clock configured (wasm32) | `InternalError` | 500 |
//!
//! ```
//! use deltaglider::sigv4::{SignConfig, SignLayer};
//! let layer = SignLayer::new(SignConfig::new("AKIDEXAMPLE", "secret", "us-east-1"));
//! # let _ = layer;
//! ```

mod config;
mod future;
mod layer;
mod service;
mod signer;

#[cfg(test)]
mod tests;

pub use config::SignConfig;
pub use future::ResponseFuture;
pub use layer::SignLayer;
pub use service::Sign;
