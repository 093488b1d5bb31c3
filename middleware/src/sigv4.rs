//! AWS Signature Version 4 verification (and SigV2, and browser upload policies): a tower
//! layer for the front of an S3 endpoint.
//!
//! [`SigV4Layer`] checks each request's signature against a [`CredentialStore`] and
//! answers failures itself with S3 XML errors; the inner service sees verified requests
//! only. It authenticates the request head; the body is checked by the
//! [`IngestLayer`](crate::IngestLayer) behind it, with what the signature says of the body
//! (handed over in the request's extensions):
//!
//! ```text
//! client → SigV4Layer → IngestLayer → DeltaLayer → SignLayer → S3 backend
//! ```
//!
//! # What is verified
//!
//! - `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, with
//!   `x-amz-date` within [`max_clock_skew`](SigV4Config::max_clock_skew) of now (15
//!   minutes) and `x-amz-content-sha256` present;
//! - presigned URLs (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`
//!   up to 604800 s, `X-Amz-SignedHeaders`, `X-Amz-Signature`; payload `UNSIGNED-PAYLOAD`
//!   unless `X-Amz-Content-Sha256` says otherwise), until they expire;
//! - the credential scope: date equal to the request's, service `s3`, the configured
//!   region if there is one;
//! - the canonical request as S3 builds it (see `canonical.rs`): the path as sent, each
//!   segment encoded once; the query sorted by encoded name then value; the signed headers
//!   lower-cased, trimmed, with runs of spaces collapsed. `host` must be signed, and so
//!   must every `x-amz-*` header sent (S3's rule; a presigned URL may leave
//!   `x-amz-user-agent` and `x-amz-checksum-mode` out, any request `x-amz-security-token`);
//! - the payload, per `x-amz-content-sha256`, by the [`IngestLayer`](crate::IngestLayer):
//!   a hex SHA-256 is compared with the body's; `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`
//!   bodies have every chunk signature and the trailer signature checked; SigV4A streaming
//!   forms (`STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD…`) are refused, their ECDSA signatures
//!   cannot be checked with an HMAC key;
//! - SigV2, for clients that still send it (aws-cli v1's `aws s3 presign`, boto3 with
//!   `signature_version='s3'`, s3cmd): `Authorization: AWS <key>:<signature>` with `Date`
//!   or `x-amz-date` within the skew window, and query authentication (`AWSAccessKeyId`,
//!   `Expires`, `Signature`) until `Expires`; the string to sign as S3 builds it (see
//!   `v2.rs`: method, `Content-MD5`, `Content-Type`, date, the `x-amz-*` headers, the path
//!   and the signed sub-resources). Its body is not signed;
//! - browser uploads (POST Object, `post.rs`): the policy's SigV4 or SigV2 signature, its
//!   expiration and conditions, every form field named by one; the upload then goes inward
//!   as a PutObject. Forms are read whole, up to [`SigV4Config::max_post_size`].
//!
//! Signatures are compared in constant time. Requests without any authentication are
//! refused with 403 `AccessDenied` unless [`SigV4Config::allow_anonymous`] lets them pass
//! unchanged, without a [`Principal`]: whatever is behind must keep them anonymous (the
//! DeltaLayer's own requests carry the client request's extensions, so a backend signer
//! that signs only requests with a principal sends them unsigned). A verified presigned
//! URL goes inward as the plain request it stands for: its signature parameters removed
//! (a backend that checks signatures would try again and fail), the `x-amz-*` headers a
//! SigV4 URL carries in its query turned into headers. SigV4A is not supported (400
//! `InvalidRequest`). Session tokens are not validated.
//!
//! # Errors
//!
//! | Failure | Code | Status |
//! |---|---|---|
//! | no authentication, not allowed | `AccessDenied` | 403 |
//! | signature differs | `SignatureDoesNotMatch` | 403 |
//! | unknown access key | `InvalidAccessKeyId` | 403 |
//! | header-signed request outside the skew window | `RequestTimeTooSkewed` | 403 |
//! | presigned URL (SigV4 or SigV2) expired / dated in the future | `AccessDenied` | 403 |
//! | missing or invalid date; unsigned `x-amz-*` headers | `AccessDenied` | 403 |
//! | unparsable `Authorization`, bad scope or region | `AuthorizationHeaderMalformed` | 400 |
//! | bad presigning parameters | `AuthorizationQueryParametersError` | 400 |
//! | no `x-amz-content-sha256` | `MissingSecurityHeader` | 400 |
//! | invalid `x-amz-content-sha256`; header and query auth together | `InvalidArgument` | 400 |
//! | SigV2 header not `AWS key:signature` | `InvalidArgument` | 400 |
//! | SigV2 query parameters missing or repeated, `Expires` not a number | `AccessDenied` | 403 |
//! | POST form not multipart/form-data as sent | `MalformedPOSTRequest` | 400 |
//! | POST without `key`, without a file, signature fields without `policy` | `InvalidArgument` | 400 |
//! | POST policy not a document (not base64 JSON, no `expiration`/`conditions`, unknown condition) | `InvalidPolicyDocument` | 400 |
//! | POST policy expired, a condition failed, a field not named by one | `AccessDenied` | 403 |
//! | POST file outside `content-length-range`; form over `max_post_size` | `EntityTooSmall` / `EntityTooLarge` | 400 |
//! | other algorithms, SigV4A streaming payloads | `InvalidRequest` | 400 |
//! | no clock configured (wasm32) | `InternalError` | 500 |
//!
//! Body failures (hash, chunk and trailer signatures, checksums, framing) are the
//! [`IngestLayer`](crate::IngestLayer)'s: see [its error table](crate::ingest#errors).
//!
//! Each refusal of authentication is logged once, at WARN, with its reason, its code and
//! the access key id the request named (never a secret or a signature), counted by reason
//! ([`SigV4Layer::refusals`]), and its answer carries a [`Refusal`] in its extensions.
//!
//! ```
//! use std::time::SystemTime;
//! use deltaglider::sigv4::{SigV4Config, SigV4Layer, StaticCredentials};
//! let keys = StaticCredentials::new().with("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG");
//! let layer = SigV4Layer::new(
//!     SigV4Config::new(keys)
//!         .region("us-east-1")
//!         .clock(SystemTime::now)
//!         .allow_anonymous(false),
//! );
//! # let _ = layer;
//! ```

mod auth;
pub(crate) mod canonical;
pub(crate) mod chunked;
mod config;
mod credentials;
mod errors;
mod layer;
mod post;
mod principal;
mod query_auth;
mod refusal;
mod service;
pub mod sign;
pub(crate) mod v2;

pub use crate::future::ResponseFuture;
pub use crate::s3::time::Clock;
pub use config::{MAX_PRESIGNED_EXPIRY, SigV4Config};
pub use credentials::{CredentialStore, StaticCredentials};
pub use layer::SigV4Layer;
pub use principal::Principal;
pub use refusal::Refusal;
pub use service::SigV4;
pub use sign::{Sign, SignConfig, SignLayer};

/// The request parsers of this module as plain functions, for fuzz targets. Not a stable
/// API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::post::form::{Field, FilePart, Form, FormError, boundary, parse as parse_form};
    pub use super::post::policy::{Condition, Policy, PolicyError, parse as parse_policy};
    pub use super::v2::canonical_resource as sigv2_canonical_resource;
}
