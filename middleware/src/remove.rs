//! DeleteObject and DeleteObjects: remove whichever stored form of each key exists.
//!
//! When the last delta of a deltaspace goes, its reference goes too
//! ([`unused::remove_unused_references`], safe against concurrent uploads).

use futures_util::StreamExt;
use http::{HeaderValue, Request, Response, StatusCode, header, request::Parts};

use crate::body::{Either, ResponseBody, collect_limited};
use crate::chunked;
use crate::delta::Shared;
use crate::error::{S3Error, escape_into};
use crate::inner::{ByteBody, Inner, InnerS3, Stop};
use crate::{keys, unused, xml};

type Outcome<E, RB> = Result<Response<ResponseBody<RB>>, Stop<E, RB>>;

/// Deletes in flight at once for DeleteObjects.
const DELETE_CONCURRENCY: usize = 16;

/// Handles DeleteObject.
pub(crate) async fn delete<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    key: &str,
    parts: Parts,
    body: B,
) -> Outcome<S::Error, RB>
where
    S: InnerS3<B, RB>,
    B: ByteBody,
    RB: ByteBody,
{
    keys::check_user_key(key).map_err(S3Error::from)?;
    inner.remove_stored(bucket, &keys::delta_key(key)).await?;
    let response = inner
        .send(Request::from_parts(parts, Either::passthrough(body)))
        .await
        .map_err(Stop::Inner)?;
    if response.status().is_success() {
        unused::remove_unused_references(shared, inner, bucket, keys::deltaspace(key)).await;
    }
    Ok(response.map(Either::passthrough))
}

/// The result of deleting one key of a batch.
enum KeyResult {
    Deleted(String),
    Failed {
        key: String,
        code: String,
        message: String,
    },
}

/// Handles DeleteObjects: both stored forms of every key, several at a time.
pub(crate) async fn delete_many<S, B, RB>(
    shared: &Shared,
    inner: &Inner<S>,
    bucket: &str,
    parts: Parts,
    body: B,
) -> Outcome<S::Error, RB>
where
    S: InnerS3<B, RB>,
    B: ByteBody,
    RB: ByteBody,
{
    let raw = collect_limited(body, 4 << 20)
        .await
        .map_err(|e| S3Error::new("MalformedXML", StatusCode::BAD_REQUEST, e.to_string()))?;
    let xml = if chunked::is_aws_chunked(&parts.headers) {
        chunked::decode(&raw)?.data
    } else {
        raw
    };
    let request = xml::parse_delete(&xml).map_err(S3Error::from)?;
    let work: Vec<_> = request
        .objects
        .iter()
        .map(|object| delete_both(inner, bucket, object.key.clone()))
        .collect();
    let results: Vec<_> = futures_util::stream::iter(work)
        .buffered(DELETE_CONCURRENCY)
        .collect()
        .await;
    let spaces: std::collections::BTreeSet<String> = request
        .objects
        .iter()
        .map(|o| keys::deltaspace(&o.key).to_owned())
        .collect();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    for result in results {
        match result? {
            KeyResult::Deleted(key) if !request.quiet => {
                out.push_str("<Deleted><Key>");
                escape_into(&mut out, &key);
                out.push_str("</Key></Deleted>");
            }
            KeyResult::Deleted(_) => {}
            KeyResult::Failed { key, code, message } => {
                out.push_str("<Error><Key>");
                escape_into(&mut out, &key);
                out.push_str("</Key><Code>");
                escape_into(&mut out, &code);
                out.push_str("</Code><Message>");
                escape_into(&mut out, &message);
                out.push_str("</Message></Error>");
            }
        }
    }
    out.push_str("</DeleteResult>");
    for space in &spaces {
        unused::remove_unused_references(shared, inner, bucket, space).await;
    }
    let mut response = Response::new(Either::full(out));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    Ok(response)
}

async fn delete_both<S, B, RB>(
    inner: &Inner<S>,
    bucket: &str,
    key: String,
) -> Result<KeyResult, Stop<S::Error, RB>>
where
    S: InnerS3<B, RB>,
    RB: ByteBody,
{
    if let Err(e) = keys::check_user_key(&key) {
        return Ok(KeyResult::Failed {
            key,
            code: "InvalidArgument".into(),
            message: e.to_string(),
        });
    }
    for stored in [keys::delta_key(&key), key.clone()] {
        if let Some(failed) = inner.delete_stored(bucket, &stored).await? {
            let code = failed
                .headers
                .get("x-amz-error-code")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| xml::error_code(&failed.body))
                .unwrap_or_else(|| "InternalError".into());
            return Ok(KeyResult::Failed {
                key,
                code,
                message: format!("the backend answered {}", failed.status),
            });
        }
    }
    Ok(KeyResult::Deleted(key))
}
