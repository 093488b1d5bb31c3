//! S3 error responses the layer answers itself.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use super::xml::{MalformedXml, escape_into};

/// An S3 error: code, HTTP status and a message, rendered as the standard XML body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    code: &'static str,
    status: StatusCode,
    message: String,
    resource: Option<String>,
}

impl S3Error {
    /// An error with the given code, status and message.
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            resource: None,
        }
    }

    /// 400 `InvalidArgument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgument", StatusCode::BAD_REQUEST, message)
    }

    /// 400 `InvalidRequest`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequest", StatusCode::BAD_REQUEST, message)
    }

    /// 500 `InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalError", StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 404 `NoSuchKey`.
    pub fn no_such_key(key: &str) -> Self {
        Self::new(
            "NoSuchKey",
            StatusCode::NOT_FOUND,
            "The specified key does not exist.",
        )
        .resource(key)
    }

    /// 501 `NotImplemented`.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new("NotImplemented", StatusCode::NOT_IMPLEMENTED, message)
    }

    /// Names the resource (key) the error is about.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The S3 error code, e.g. `InvalidArgument`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The XML body S3 sends for this error.
    pub fn to_xml(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
        xml.push_str(self.code);
        xml.push_str("</Code><Message>");
        escape_into(&mut xml, &self.message);
        xml.push_str("</Message>");
        if let Some(resource) = &self.resource {
            xml.push_str("<Resource>");
            escape_into(&mut xml, resource);
            xml.push_str("</Resource>");
        }
        xml.push_str("</Error>");
        xml
    }

    /// The complete HTTP response. HEAD responses carry no body, so S3 sends the code in
    /// headers too; we do the same for every method.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut response = Response::new(Bytes::from(self.to_xml()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        headers.insert("x-amz-error-code", HeaderValue::from_static(self.code));
        if let Ok(message) = HeaderValue::from_str(&self.message) {
            headers.insert("x-amz-error-message", message);
        }
        response
    }
}

impl From<MalformedXml> for S3Error {
    fn from(e: MalformedXml) -> Self {
        S3Error::new("MalformedXML", StatusCode::BAD_REQUEST, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_xml_and_headers() {
        let e = S3Error::invalid_argument("key \"a<b\" is reserved").resource("a<b");
        assert_eq!(
            e.to_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>\
             <Message>key &quot;a&lt;b&quot; is reserved</Message><Resource>a&lt;b</Resource></Error>"
        );
        let r = e.to_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()["x-amz-error-code"], "InvalidArgument");
    }
}
