//! What the signing layer is configured with.

use std::fmt;
use std::sync::Arc;

use crate::s3::time::{Clock, default_clock};

/// Settings of a [`SignLayer`](super::SignLayer): the backend's credentials and scope.
///
/// ```
/// use deltaglider::sigv4::SignConfig;
/// let config = SignConfig::new("AKIDEXAMPLE", "secret", "eu-west-1").sign_anonymous(true);
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct SignConfig {
    pub(crate) access_key: String,
    pub(crate) secret_key: String,
    pub(crate) session_token: Option<String>,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) sign_anonymous: bool,
}

impl SignConfig {
    /// Signs as `access_key` for `region`, service `s3`, only requests of verified clients
    /// (see [the module docs](super#whose-requests-are-signed)).
    ///
    /// The clock is `SystemTime::now` on native targets. On wasm32 there is none: set one
    /// with [`clock`](Self::clock), or every request is answered 500 `InternalError`.
    pub fn new(
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            session_token: None,
            region: region.into(),
            service: "s3".to_owned(),
            clock: default_clock(),
            sign_anonymous: false,
        }
    }

    /// Temporary credentials: sent as `x-amz-security-token` (default none).
    pub fn session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// The service name of the credential scope (default `s3`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Where the signing time comes from (default `SystemTime::now` on native targets,
    /// none on wasm32).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Signs requests without a [`Principal`](crate::sigv4::Principal) too (default: sent
    /// unsigned): for a stack that verifies no client, where every client acts with the
    /// backend's credentials.
    pub fn sign_anonymous(mut self, sign: bool) -> Self {
        self.sign_anonymous = sign;
        self
    }

    /// The region of the credential scope.
    pub fn get_region(&self) -> &str {
        &self.region
    }

    /// Whether requests without a `Principal` are signed.
    pub fn get_sign_anonymous(&self) -> bool {
        self.sign_anonymous
    }
}

impl fmt::Debug for SignConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignConfig")
            .field("access_key", &self.access_key)
            .field("has_session_token", &self.session_token.is_some())
            .field("region", &self.region)
            .field("service", &self.service)
            .field("has_clock", &self.clock.is_some())
            .field("sign_anonymous", &self.sign_anonymous)
            .finish_non_exhaustive()
    }
}
