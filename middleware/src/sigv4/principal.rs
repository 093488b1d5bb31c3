//! Who signed a verified request, and what its body must still be checked against.

use super::chunked::SignedPayload;
use super::query_auth::QueryAuth;

/// Who a verified request was signed by; [`SigV4`](super::SigV4) inserts it into the
/// request's extensions for the services behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    access_key_id: String,
    region: String,
    presigned: bool,
}

impl Principal {
    /// An identity the host established itself, not by a signature on this request
    /// (a signed dashboard session, say): it acts as `access_key_id` would.
    pub fn established(access_key_id: &str, region: &str) -> Self {
        Self::new(access_key_id, region, false)
    }

    pub(crate) fn new(access_key_id: &str, region: &str, presigned: bool) -> Self {
        Self {
            access_key_id: access_key_id.to_owned(),
            region: region.to_owned(),
            presigned,
        }
    }

    /// The access key id that signed the request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region of the credential scope (empty for SigV2, which has none).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Whether the signature came in the query string (a presigned URL, SigV4 or SigV2).
    pub fn is_presigned(&self) -> bool {
        self.presigned
    }
}

/// A request whose signature checked out.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) principal: Principal,
    /// What the body must still be checked against, if its hash or chunks are signed.
    pub(crate) payload: Option<SignedPayload>,
    /// The scheme whose parameters are in the query string, for a presigned URL: they are
    /// removed before the request goes inward.
    pub(crate) query_auth: Option<QueryAuth>,
}
