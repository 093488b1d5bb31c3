//! Request bodies, decoded and verified in one place.
//!
//! [`IngestLayer`] sits after authentication and before the [`DeltaLayer`](crate::DeltaLayer):
//!
//! ```text
//! client → SigV4Layer (the request head) → IngestLayer (the body) → DeltaLayer → backend
//! ```
//!
//! Every request, whatever its operation, reaches the inner service with a plain body of
//! known length: `aws-chunked` framing (all `STREAMING-*` forms of `x-amz-content-sha256`,
//! with or without trailers, over HTTP chunked transfer or not) is removed by one decoder,
//! and the body is checked against everything the request says of it:
//!
//! - `x-amz-content-sha256` as a hex SHA-256 (always, signed or not; also a presigned URL's
//!   `X-Amz-Content-Sha256` when [`SigV4Layer`](crate::sigv4::SigV4Layer) verified one);
//! - chunk and trailer signatures of signed `aws-chunked` bodies, with the signing material
//!   the SigV4 layer hands over in the request's extensions (without it — anonymous
//!   requests — the framing is decoded and the signatures are not checked);
//! - `Content-MD5`; one `x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}` as a header
//!   or as a trailer announced in `x-amz-trailer` (which must then arrive);
//! - the length: `Content-Length`, or `x-amz-decoded-content-length` for `aws-chunked`;
//! - the head: not both `Content-Length` and `Transfer-Encoding`, at most 2 KB of user
//!   metadata (`x-amz-meta-*` names and values).
//!
//! Bodies up to [`IngestLayer::buffer_limit`] (8 MiB) are read and verified before the
//! inner service is called; a failure is answered with its S3 error and nothing reaches the
//! inner service. A verified trailer checksum becomes an ordinary `x-amz-checksum-<alg>`
//! header. Larger bodies stream in bounded memory and hold back their last bytes until
//! every check passed: on a mismatch the body ends with an error instead, so a backend
//! reading `Content-Length` bytes never sees a complete upload, and the response is the
//! S3 error whatever the inner service answered to the broken upload.
//!
//! The services behind see `Content-Length` the payload length, no `Transfer-Encoding`,
//! `x-amz-decoded-content-length` or `x-amz-trailer`, `aws-chunked` gone from
//! `Content-Encoding` (other codings kept), and `x-amz-content-sha256` the payload's hex
//! SHA-256 when known, else `UNSIGNED-PAYLOAD`.
//!
//! The [`DeltaLayer`](crate::DeltaLayer) runs the same ingest itself for requests that did
//! not come through an `IngestLayer`, so no composition forwards framing as data.
//!
//! # Errors
//!
//! | Failure | Code | Status |
//! |---|---|---|
//! | body differs from `x-amz-content-sha256` | `XAmzContentSHA256Mismatch` | 400 |
//! | chunk or trailer signature differs | `SignatureDoesNotMatch` | 403 |
//! | `Content-MD5` or `x-amz-checksum-*` differs | `BadDigest` | 400 |
//! | `Content-MD5` not 16 bytes of base64 | `InvalidDigest` | 400 |
//! | malformed `aws-chunked`, missing announced trailer, body shorter or longer than declared, unreadable | `IncompleteBody` | 400 |
//! | two checksums, `Content-Length` with `Transfer-Encoding`, a header sent twice | `InvalidRequest` | 400 |
//! | unparsable length, unknown `x-amz-trailer` | `InvalidArgument` | 400 |
//! | no length for a PUT, or an `aws-chunked` body without `x-amz-decoded-content-length` | `MissingContentLength` | 411 |
//! | more than 2 KB of user metadata | `MetadataTooLarge` | 400 |

mod answer;
mod body;
mod decoder;
mod engine;
mod errors;
mod layer;
mod plan;
mod prepare;
mod service;
mod verify;

#[cfg(test)]
mod tests;

pub use crate::future::ResponseFuture;
pub use body::IngestBody;
pub use layer::{DEFAULT_BUFFER_LIMIT, IngestLayer};
pub use service::Ingest;

pub(crate) use prepare::{Ingested, Prepared, prepare};
