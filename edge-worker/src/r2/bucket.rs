//! The bucket calls clients make before object calls. The Worker serves one bucket that
//! always exists: it is listed, HEAD finds it, creating it again succeeds (as S3 answers
//! its owner in `us-east-1`), and deleting it is refused.

use deltaglider::S3Error;
use http::{Response, header};

use super::reply::{value, xml};
use crate::body::R2Body;

/// When the bucket is said to have been created: R2's binding does not tell.
const CREATED: &str = "2024-01-01T00:00:00.000Z";

/// ListBuckets: the one bucket.
pub(super) fn list_buckets(name: &str) -> Response<R2Body> {
    xml(crate::xml::list_buckets(name, CREATED))
}

/// CreateBucket of the served bucket: it exists already and is the caller's.
pub(super) fn create(name: &str) -> Response<R2Body> {
    let mut response = Response::new(R2Body::empty());
    if let Ok(location) = value(&format!("/{name}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// DeleteBucket: the R2 bucket is managed with Cloudflare's tools, not through the Worker.
pub(super) fn delete_refused(name: &str) -> S3Error {
    S3Error::not_implemented(format!(
        "bucket {name} is an R2 bucket bound to this Worker; delete it with wrangler"
    ))
}
