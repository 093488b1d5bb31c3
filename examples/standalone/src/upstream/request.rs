//! Re-addressing a request to the upstream endpoint, with a plain body.

use std::fmt;

use bytes::Bytes;
use deltaglider::{BoxError, S3Error};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Uri, Version, header};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

/// What is sent upstream: a plain body, whatever the client's was.
pub(super) type UpstreamBody = UnsyncBoxBody<Bytes, BoxError>;

/// Headers about the client's connection or signature, not about the object: the
/// upstream request gets its own.
const CONNECTION_AND_SIGNATURE: [&str; 13] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Query parameters of a presigned URL: the client's signature, checked already.
const PRESIGN_PARAMS: [&str; 7] = [
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-signature",
    "x-amz-date",
    "x-amz-signedheaders",
    "x-amz-expires",
    "x-amz-security-token",
];

/// Where the upstream S3 service is: `http(s)://host[:port]`, addressed path style.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    scheme: Scheme,
    authority: Authority,
    host: HeaderValue,
}

impl Endpoint {
    /// Parses `http://host:port` or `https://host`; a path or query is refused (buckets are
    /// addressed path style below the root).
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("--upstream {url}: not a URL ({e})"))?;
        let scheme = uri
            .scheme()
            .filter(|s| **s == Scheme::HTTP || **s == Scheme::HTTPS)
            .cloned()
            .ok_or_else(|| format!("--upstream {url}: give an http:// or https:// URL"))?;
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| format!("--upstream {url}: the URL has no host"))?;
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
            return Err(format!(
                "--upstream {url}: give the endpoint's root, without a path (buckets are \
                 addressed path style)"
            ));
        }
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| format!("--upstream {url}: unusable host"))?;
        Ok(Self {
            scheme,
            authority,
            host,
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// The request to send upstream: same method, path, query (less any presigned-URL
/// signature), and object headers; a plain body with a Content-Length.
pub(crate) fn prepare<B>(
    request: Request<B>,
    endpoint: &Endpoint,
) -> Result<Request<UpstreamBody>, S3Error>
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<deltaglider::BoxError>,
{
    // Bodies arrive plain and verified: the ingest in front removed any aws-chunked framing.
    let (mut parts, body) = request.into_parts();
    let path_and_query = readdress(&parts.uri)?;
    parts.uri = Uri::builder()
        .scheme(endpoint.scheme.clone())
        .authority(endpoint.authority.clone())
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| S3Error::invalid_argument(format!("unusable request URI: {e}")))?;
    for name in CONNECTION_AND_SIGNATURE {
        parts.headers.remove(name);
    }
    parts.headers.insert(header::HOST, endpoint.host.clone());
    parts.version = Version::HTTP_11;
    let body = body.map_err(Into::into).boxed_unsync();
    Ok(Request::from_parts(parts, body))
}

/// The path and query of `uri` without presigned-URL parameters.
fn readdress(uri: &Uri) -> Result<PathAndQuery, S3Error> {
    let path = uri.path();
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
        })
        .collect();
    let text = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    text.parse()
        .map_err(|e| S3Error::invalid_argument(format!("unusable request URI: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:8333").expect("plain");
        assert_eq!(e.to_string(), "http://127.0.0.1:8333");
        assert!(Endpoint::parse("https://s3.eu-west-1.amazonaws.com/").is_ok());
        assert!(Endpoint::parse("ftp://host").is_err());
        assert!(Endpoint::parse("http://host/bucket").is_err());
        assert!(Endpoint::parse("127.0.0.1:9000").is_err());
    }

    #[test]
    fn presigned_parameters_are_dropped() {
        let uri: Uri = "/b/k%20x?X-Amz-Algorithm=AWS4-HMAC-SHA256&versionId=3&x-amz-signature=ab\
                        &X-Amz-Credential=a%2Fb&X-Amz-Date=1&X-Amz-Expires=60\
                        &X-Amz-SignedHeaders=host&response-content-type=text%2Fplain"
            .parse()
            .expect("uri");
        assert_eq!(
            readdress(&uri).expect("readdressed").as_str(),
            "/b/k%20x?versionId=3&response-content-type=text%2Fplain"
        );
        let uri: Uri = "/b?list-type=2&prefix=".parse().expect("uri");
        assert_eq!(
            readdress(&uri).expect("kept").as_str(),
            "/b?list-type=2&prefix="
        );
    }

    #[test]
    fn connection_and_signature_headers_are_replaced() {
        let endpoint = Endpoint::parse("http://127.0.0.1:1").expect("endpoint");
        let request = Request::builder()
            .method("PUT")
            .uri("/b/k")
            .header("host", "proxy:9000")
            .header("authorization", "AWS4-HMAC-SHA256 …")
            .header("expect", "100-continue")
            .header("x-amz-meta-a", "1")
            .header("content-length", "3")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"abc")))
            .expect("request");
        let prepared = prepare(request, &endpoint).expect("prepared");
        assert_eq!(prepared.uri().to_string(), "http://127.0.0.1:1/b/k");
        let headers = prepared.headers();
        assert_eq!(headers["host"], "127.0.0.1:1");
        assert_eq!(headers["x-amz-meta-a"], "1");
        assert_eq!(headers["content-length"], "3");
        assert!(headers.get("authorization").is_none());
        assert!(headers.get("expect").is_none());
    }
}
