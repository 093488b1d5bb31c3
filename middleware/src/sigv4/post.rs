//! Browser-based uploads (POST Object): `POST /bucket` with a `multipart/form-data` body
//! carrying the key, a signed policy and the file.
//!
//! The form is read (up to [`SigV4Config::max_post_size`]), its signature checked — SigV4
//! (`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`: HMAC-SHA256
//! of the base64 policy with the day's signing key) or SigV2 (`AWSAccessKeyId`,
//! `signature`: base64 HMAC-SHA1 of the base64 policy) —, then the policy: its expiration,
//! every condition, and that every field not exempt is named by one (as S3 requires:
//! a field no condition covers could change what the upload does). The upload then goes
//! inward as the PutObject it stands for, so whatever is behind (the DeltaLayer) stores it
//! like any other PUT. A form without a policy is an anonymous upload, allowed only when
//! anonymous requests are.

pub(crate) mod form;
pub(crate) mod policy;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Uri, header};
use http_body::Body;
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use self::form::Form;
use self::policy::PolicyError;
use super::canonical::{ALGORITHM, SigningKey, parse_amz_date, signatures_match};
use super::config::SigV4Config;
use super::errors::{NOT_AUTHENTICATED, access_denied, invalid_access_key, signature_mismatch};
use super::principal::Principal;
use super::v2;
use crate::body::{BoxError, Either, ResponseBody};
use crate::s3::error::S3Error;

/// Characters left as they are in a key path: RFC 3986 unreserved, and `/`.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Whether `parts` is a POST Object: `POST /bucket` (no key, no query) with a form body.
pub(crate) fn is_post_object(parts: &Parts) -> bool {
    parts.method == Method::POST
        && parts.uri.query().is_none_or(str::is_empty)
        && bucket_of(&parts.uri).is_some()
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(form::boundary)
            .is_some()
}

/// The bucket of `/bucket` or `/bucket/`.
fn bucket_of(uri: &Uri) -> Option<&str> {
    let path = uri.path().strip_prefix('/')?;
    let bucket = path.strip_suffix('/').unwrap_or(path);
    (!bucket.is_empty() && !bucket.contains('/')).then_some(bucket)
}

/// A verified upload: the PutObject to send inward, and how to answer once it is done.
pub(crate) struct Upload {
    /// The PutObject's head.
    pub(crate) parts: Parts,
    /// The file.
    pub(crate) body: Bytes,
    /// How to answer.
    pub(crate) reply: Reply,
}

/// What the client asked the answer to be.
pub(crate) struct Reply {
    bucket: String,
    key: String,
    location: String,
    status: Option<String>,
    redirect: Option<String>,
}

fn malformed(detail: &str) -> S3Error {
    S3Error::new(
        "MalformedPOSTRequest",
        StatusCode::BAD_REQUEST,
        format!("The body of your POST request is not well-formed multipart/form-data: {detail}"),
    )
}

/// Reads and verifies the form; the PutObject it stands for. Once the form is read,
/// `access_key` is the access key id it names, if any (for the log of a refusal).
pub(crate) async fn read<B>(
    config: &SigV4Config,
    parts: Parts,
    body: B,
    access_key: &mut Option<String>,
) -> Result<Upload, S3Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let data = read_body(config.max_post_size, &parts, body).await?;
    let boundary = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(form::boundary)
        .ok_or_else(|| malformed("no boundary"))?;
    let form = form::parse(&data, boundary).map_err(|e| malformed(e.0))?;
    *access_key = named_access_key(&form);
    let bucket = bucket_of(&parts.uri)
        .ok_or_else(|| S3Error::invalid_request("POST Object needs a bucket"))?
        .to_owned();
    let file = form.file.clone().ok_or_else(|| {
        S3Error::invalid_argument("POST requires exactly one file upload per request.")
    })?;
    let file_len = (file.data.end - file.data.start) as u64;
    // `${filename}` in the key stands for the file's name; the policy sees the key it makes.
    let mut form = form;
    for field in &mut form.fields {
        if field.name.eq_ignore_ascii_case("key") {
            field.value = field
                .value
                .replace("${filename}", file.filename.as_deref().unwrap_or(""));
        }
    }
    let key = form
        .get("key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| S3Error::invalid_argument("Bucket POST must contain a field named 'key'."))?
        .to_owned();
    let principal = authorize(config, &form, &bucket, file_len)?;
    let put = put_parts(parts, &form, &bucket, &key, file_len, principal)?;
    let location = format!("/{bucket}/{}", utf8_percent_encode(&key, KEY));
    Ok(Upload {
        parts: put,
        body: data.slice(file.data),
        reply: Reply {
            bucket,
            key,
            location,
            status: form.get("success_action_status").map(str::to_owned),
            redirect: form
                .get("success_action_redirect")
                .or_else(|| form.get("redirect"))
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        },
    })
}

/// The body of a form, up to `limit` bytes.
async fn read_body<B>(limit: u64, parts: &Parts, body: B) -> Result<Bytes, S3Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let declared: Option<u64> = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    Ok(
        http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    S3Error::new(
                        "IncompleteBody",
                        StatusCode::BAD_REQUEST,
                        "The request body could not be read.",
                    )
                }
            })?
            .to_bytes(),
    )
}

/// The access key id a form names (`x-amz-credential`, `AWSAccessKeyId`).
fn named_access_key(form: &Form) -> Option<String> {
    form.get("x-amz-credential")
        .map(|credential| credential.split('/').next().unwrap_or(""))
        .or_else(|| form.get("AWSAccessKeyId"))
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
}

fn too_large() -> S3Error {
    S3Error::new(
        "EntityTooLarge",
        StatusCode::BAD_REQUEST,
        "Your proposed upload exceeds the maximum allowed size",
    )
}

/// Checks the signature and the policy; the signer, or `None` for an anonymous upload.
fn authorize(
    config: &SigV4Config,
    form: &Form,
    bucket: &str,
    file_len: u64,
) -> Result<Option<Principal>, S3Error> {
    let Some(policy_text) = form.get("policy") else {
        let signed = [
            "x-amz-signature",
            "signature",
            "awsaccesskeyid",
            "x-amz-credential",
        ]
        .iter()
        .any(|f| form.get(f).is_some());
        if signed {
            return Err(S3Error::invalid_argument(
                "Bucket POST must contain a field named 'policy' when it is signed.",
            ));
        }
        if !config.allow_anonymous {
            return Err(access_denied(NOT_AUTHENTICATED));
        }
        return Ok(None);
    };
    let principal = if let Some(algorithm) = form.get("x-amz-algorithm") {
        verify_v4(config, form, algorithm, policy_text)?
    } else {
        verify_v2(config, form, policy_text)?
    };
    let clock = config.clock.as_ref().ok_or_else(|| {
        S3Error::internal("POST policy verification has no clock: set SigV4Config::clock")
    })?;
    let policy = policy::parse(policy_text).map_err(policy_error)?;
    policy
        .check(form, bucket, file_len, clock.now())
        .map_err(policy_error)?;
    Ok(Some(principal))
}

fn policy_error(error: PolicyError) -> S3Error {
    match error {
        PolicyError::Invalid(message) => {
            S3Error::new("InvalidPolicyDocument", StatusCode::BAD_REQUEST, message)
        }
        PolicyError::Denied(message) => access_denied(&message),
        PolicyError::TooSmall => S3Error::new(
            "EntityTooSmall",
            StatusCode::BAD_REQUEST,
            "Your proposed upload is smaller than the minimum allowed size",
        ),
        PolicyError::TooLarge => too_large(),
    }
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, S3Error> {
    form.get(name).ok_or_else(|| {
        S3Error::invalid_argument(format!("Bucket POST must contain a field named '{name}'."))
    })
}

fn verify_v2(config: &SigV4Config, form: &Form, policy: &str) -> Result<Principal, S3Error> {
    let access_key = required(form, "AWSAccessKeyId")?;
    let signature = required(form, "signature")?;
    let secret = config
        .credentials
        .secret_key(access_key)
        .ok_or_else(invalid_access_key)?;
    if !signatures_match(&v2::sign(&secret, policy.as_bytes())?, signature) {
        return Err(signature_mismatch());
    }
    Ok(Principal::new(access_key, "", false))
}

fn verify_v4(
    config: &SigV4Config,
    form: &Form,
    algorithm: &str,
    policy: &str,
) -> Result<Principal, S3Error> {
    if algorithm != ALGORITHM {
        return Err(S3Error::invalid_argument(
            "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm.",
        ));
    }
    let credential = required(form, "x-amz-credential")?;
    let amz_date = required(form, "x-amz-date")?;
    let signature = required(form, "x-amz-signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope[..] else {
        return Err(S3Error::invalid_argument(
            "x-amz-credential must be <access key>/<date>/<region>/<service>/aws4_request",
        ));
    };
    parse_amz_date(amz_date).ok_or_else(|| {
        S3Error::invalid_argument("x-amz-date must be an ISO 8601 basic timestamp")
    })?;
    if date.len() != 8 || !amz_date.starts_with(date) || service != config.service {
        return Err(S3Error::invalid_argument(
            "x-amz-credential does not match x-amz-date or the service",
        ));
    }
    if config.region.as_deref().is_some_and(|r| r != region) {
        return Err(S3Error::invalid_argument(format!(
            "the region '{region}' is wrong in x-amz-credential"
        )));
    }
    let secret = config
        .credentials
        .secret_key(access_key)
        .ok_or_else(invalid_access_key)?;
    let key = SigningKey::derive(&secret, date, region, service)?;
    if !signatures_match(&key.sign(policy.as_bytes())?, signature) {
        return Err(signature_mismatch());
    }
    Ok(Principal::new(access_key, region, false))
}

/// Form fields that become request headers of the PutObject, by their header name.
fn header_for(field: &str) -> Option<String> {
    let field = field.to_ascii_lowercase();
    let plain = [
        "cache-control",
        "content-type",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-md5",
        "expires",
    ];
    if field == "acl" {
        return Some("x-amz-acl".to_owned());
    }
    let amz = field.starts_with("x-amz-meta-")
        || field.starts_with("x-amz-checksum-")
        || field.starts_with("x-amz-server-side-encryption")
        || matches!(
            field.as_str(),
            "x-amz-storage-class" | "x-amz-website-redirect-location" | "x-amz-tagging"
        );
    (plain.contains(&field.as_str()) || amz).then_some(field)
}

fn put_parts(
    mut parts: Parts,
    form: &Form,
    bucket: &str,
    key: &str,
    file_len: u64,
    principal: Option<Principal>,
) -> Result<Parts, S3Error> {
    let path = format!("/{bucket}/{}", utf8_percent_encode(key, KEY));
    let mut uri = Uri::builder().path_and_query(path);
    if let (Some(scheme), Some(authority)) = (parts.uri.scheme(), parts.uri.authority()) {
        uri = uri.scheme(scheme.clone()).authority(authority.clone());
    }
    parts.uri = uri
        .build()
        .map_err(|_| S3Error::new("KeyTooLongError", StatusCode::BAD_REQUEST, "bad key"))?;
    parts.method = Method::PUT;
    let mut headers = HeaderMap::new();
    if let Some(host) = parts.headers.get(header::HOST) {
        headers.insert(header::HOST, host.clone());
    }
    for field in &form.fields {
        let Some(name) = header_for(&field.name) else {
            continue;
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| S3Error::invalid_argument(format!("unusable field {}", field.name)))?;
        let value = HeaderValue::from_str(&field.value).map_err(|_| {
            S3Error::invalid_argument(format!("the value of {} is not a header value", field.name))
        })?;
        headers.insert(name, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file_len));
    parts.headers = headers;
    parts.extensions.remove::<Principal>();
    if let Some(principal) = principal {
        parts.extensions.insert(principal);
    }
    Ok(parts)
}

impl Reply {
    /// The answer to the client, once the PutObject answered `response`.
    pub(crate) fn respond<RB>(self, response: Response<RB>) -> Response<ResponseBody<RB>> {
        if !response.status().is_success() {
            return response.map(Either::passthrough);
        }
        let etag = response.headers().get(header::ETAG).cloned();
        let etag_text = etag
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut answer = Response::new(Either::full(Bytes::new()));
        if let Some(redirect) = self
            .redirect
            .as_deref()
            .filter(|r| r.parse::<Uri>().is_ok())
        {
            let query = [
                ("bucket", self.bucket.as_str()),
                ("key", self.key.as_str()),
                ("etag", etag_text.as_str()),
            ]
            .iter()
            .map(|(n, v)| format!("{n}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&");
            let separator = if redirect.contains('?') { '&' } else { '?' };
            *answer.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(location) = HeaderValue::from_str(&format!("{redirect}{separator}{query}")) {
                answer.headers_mut().insert(header::LOCATION, location);
            }
        } else {
            match self.status.as_deref() {
                Some("200") => *answer.status_mut() = StatusCode::OK,
                Some("201") => {
                    *answer.status_mut() = StatusCode::CREATED;
                    let xml = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{}\
                         </Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
                        escape(&self.location),
                        escape(&self.bucket),
                        escape(&self.key),
                        escape(&etag_text)
                    );
                    answer.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/xml"),
                    );
                    *answer.body_mut() = Either::full(xml);
                }
                _ => *answer.status_mut() = StatusCode::NO_CONTENT,
            }
            if let Ok(location) = HeaderValue::from_str(&self.location) {
                answer.headers_mut().insert(header::LOCATION, location);
            }
        }
        if let Some(etag) = etag {
            answer.headers_mut().insert(header::ETAG, etag);
        }
        answer
    }
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}
