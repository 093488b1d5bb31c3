//! What the SigV4 layer is configured with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::credentials::CredentialStore;
use crate::s3::time::{Clock, default_clock};

/// The longest validity of a presigned URL S3 accepts (`X-Amz-Expires`), 7 days.
pub const MAX_PRESIGNED_EXPIRY: Duration = Duration::from_secs(604_800);

/// Settings of a [`SigV4Layer`](super::SigV4Layer).
///
/// ```
/// use deltaglider::sigv4::{SigV4Config, StaticCredentials};
/// let config = SigV4Config::new(StaticCredentials::new().with("AKIDEXAMPLE", "secret"))
///     .region("us-east-1");
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct SigV4Config {
    pub(crate) credentials: Arc<dyn CredentialStore>,
    pub(crate) region: Option<String>,
    pub(crate) service: String,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) allow_anonymous: bool,
    pub(crate) max_skew: Duration,
    pub(crate) max_post_size: u64,
}

impl SigV4Config {
    /// Verifies against `credentials`; any region, service `s3`, 15 minutes of clock skew,
    /// anonymous requests refused.
    ///
    /// The clock is `SystemTime::now` on native targets. On wasm32 there is none: set one
    /// with [`clock`](Self::clock), or every signed request fails with 500 `InternalError`.
    pub fn new(credentials: impl CredentialStore) -> Self {
        Self {
            credentials: Arc::new(credentials),
            region: None,
            service: "s3".to_owned(),
            clock: default_clock(),
            allow_anonymous: false,
            max_skew: Duration::from_secs(15 * 60),
            max_post_size: 64 << 20,
        }
    }

    /// Accepts only this region in the credential scope (default: any region), answering
    /// others with 400 `AuthorizationHeaderMalformed` as S3 does.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The service name the credential scope must carry (default `s3`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Where the time comes from (default `SystemTime::now` on native targets, none on
    /// wasm32).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Lets requests that carry no authentication at all (no `Authorization` header, no
    /// presigning or SigV2 query parameters) through unchanged (default: refused with 403
    /// `AccessDenied`). Requests that do carry authentication are always verified.
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.allow_anonymous = allow;
        self
    }

    /// How far the `x-amz-date` of a header-signed request may be from now (default 15
    /// minutes, as S3). Presigned URLs use their `X-Amz-Expires` instead, and may be dated
    /// at most this far in the future.
    pub fn max_clock_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }

    /// The largest browser upload (POST Object) body accepted, form fields included
    /// (default 64 MiB). The form is read whole before its policy is checked and the file
    /// goes inward, so this bounds the memory of one such request; larger ones are refused
    /// with 400 `EntityTooLarge`. (S3 itself takes up to 5 GB; use multipart uploads for
    /// files beyond this.)
    pub fn max_post_size(mut self, bytes: u64) -> Self {
        self.max_post_size = bytes;
        self
    }

    /// The region required in the credential scope, if any.
    pub fn get_region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Whether requests without authentication pass.
    pub fn get_allow_anonymous(&self) -> bool {
        self.allow_anonymous
    }
}

impl fmt::Debug for SigV4Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Config")
            .field("region", &self.region)
            .field("service", &self.service)
            .field("has_clock", &self.clock.is_some())
            .field("allow_anonymous", &self.allow_anonymous)
            .field("max_skew", &self.max_skew)
            .field("max_post_size", &self.max_post_size)
            .finish_non_exhaustive()
    }
}
