//! [`R2Service`] itself: the bucket binding it speaks to and the bucket name it serves.

use std::sync::Arc;

use worker::Bucket;
use worker::send::SendWrapper;

/// An S3 service over one R2 bucket binding, answering in S3's wire format.
///
/// It serves the bucket name it was given; requests naming another bucket get
/// `NoSuchBucket`. Failures of R2 become S3 XML error responses, so the service itself
/// never fails.
#[derive(Debug, Clone)]
pub struct R2Service {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    // The binding is a JavaScript object; a Worker isolate runs one thread, and the layer
    // requires `Sync` services.
    bucket: SendWrapper<Bucket>,
    name: String,
    region: Option<String>,
}

impl R2Service {
    /// Serves `bucket` under the S3 bucket name `name`; `region` is what
    /// GetBucketLocation reports (none: `us-east-1`).
    pub fn new(bucket: Bucket, name: impl Into<String>, region: Option<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                bucket: SendWrapper::new(bucket),
                name: name.into(),
                region,
            }),
        }
    }

    /// The R2 bucket binding.
    pub(crate) fn bucket(&self) -> &Bucket {
        &self.shared.bucket
    }

    /// The S3 name of the bucket served.
    pub(crate) fn name(&self) -> &str {
        &self.shared.name
    }

    /// The region GetBucketLocation reports.
    pub(crate) fn region(&self) -> Option<&str> {
        self.shared.region.as_deref()
    }
}
