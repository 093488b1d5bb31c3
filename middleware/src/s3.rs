//! The S3 protocol, knowing nothing of deltas: error responses, request classification,
//! ranges, time, checksums and `Content-MD5`, listing documents, query strings and XML.
//! The layer, the SigV4 layer, the proxy and the edge Worker all speak S3 through it.
//!
//! ```
//! use deltaglider::s3::{S3Error, range};
//! assert_eq!(range::parse(Some("bytes=-2"), 10), range::Wanted::Part(8..10));
//! assert_eq!(S3Error::no_such_key("a").status(), 404);
//! ```

pub mod checksum;
pub mod conditions;
pub mod content_md5;
pub mod copy_source;
pub mod error;
pub mod hide;
pub mod length;
pub mod listing;
pub mod metadata;
pub mod op;
pub mod query;
pub mod range;
pub mod time;
pub mod xml;

pub use error::S3Error;
pub use op::{S3Op, S3OpKind};
