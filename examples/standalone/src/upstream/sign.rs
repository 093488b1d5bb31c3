//! SigV4 signing of upstream requests with the upstream's credentials (`aws-sigv4`, the
//! AWS SDK's own signer), for the requests that may use them.
//!
//! A client the proxy verified acts with the proxy's upstream identity; an anonymous one
//! (`--allow-anonymous`) must not: its requests, and the DeltaLayer's own requests on its
//! behalf (which carry the client's extensions), go upstream unsigned, so the upstream's
//! own rules decide — public-read data stays readable, private data stays private.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use deltaglider::S3Error;
use deltaglider::sigv4::Principal;
use http::Request;
use http_body::Body;

use super::UpstreamBody;

/// Signs requests for one upstream identity and region.
pub(crate) struct Signer {
    identity: Identity,
    region: String,
    sign_anonymous: bool,
}

impl Signer {
    /// Signs only requests that carry a [`Principal`] (a client the proxy verified).
    pub(crate) fn new(access_key: &str, secret_key: &str, region: &str) -> Self {
        Self {
            identity: Credentials::new(access_key, secret_key, None, None, "deltaglider-proxy")
                .into(),
            region: region.to_owned(),
            sign_anonymous: false,
        }
    }

    /// Signs requests without a [`Principal`] too: for a proxy that verifies no client
    /// (no client credentials configured, or `--raw`), where every client acts as the proxy.
    pub(crate) fn sign_anonymous(mut self, sign: bool) -> Self {
        self.sign_anonymous = sign;
        self
    }

    /// Whether `request` is sent with the upstream credentials.
    pub(crate) fn signs<B>(&self, request: &Request<B>) -> bool {
        self.sign_anonymous || request.extensions().get::<Principal>().is_some()
    }

    /// Adds `Authorization`, `x-amz-date` and `x-amz-content-sha256` (the empty body's hash,
    /// or `UNSIGNED-PAYLOAD`: a body is streamed, not hashed first).
    pub(crate) fn sign(&self, request: &mut Request<UpstreamBody>) -> Result<(), S3Error> {
        let body = if request.body().size_hint().exact() == Some(0) {
            SignableBody::Bytes(&[])
        } else {
            SignableBody::UnsignedPayload
        };
        let mut headers = Vec::with_capacity(request.headers().len());
        for (name, value) in request.headers() {
            let value = value.to_str().map_err(|_| {
                S3Error::invalid_argument(format!(
                    "header {name} is not ASCII text and cannot be signed for the backend"
                ))
            })?;
            headers.push((name.as_str(), value));
        }
        let uri = request.uri().to_string();
        let signable =
            SignableRequest::new(request.method().as_str(), &uri, headers.into_iter(), body)
                .map_err(|e| S3Error::internal(format!("cannot sign the backend request: {e}")))?;
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| S3Error::internal(format!("cannot sign the backend request: {e}")))?;
        let (instructions, _signature) = http_request::sign(signable, &params.into())
            .map_err(|e| S3Error::internal(format!("cannot sign the backend request: {e}")))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}
