//! DeleteObject and DeleteObjects: remove whichever stored form of each key exists.
//!
//! When the last delta of a deltaspace goes, its reference goes too
//! ([`unused::remove_unused_references`], safe against concurrent uploads).

use futures_util::StreamExt;
use http::{HeaderValue, Request, Response, StatusCode, header, request::Parts};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::body::{Either, RequestBody, ResponseBody, collect_limited};
use crate::delta::Shared;
use crate::error::{S3Error, escape_into};
use crate::inner::{ByteBody, Inner, InnerS3, Stop};
use crate::{keys, unused};

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
    body: RequestBody<B>,
) -> Outcome<S::Error, RB>
where
    S: InnerS3<B, RB>,
    B: ByteBody,
    RB: ByteBody,
{
    keys::check_user_key(key).map_err(S3Error::from)?;
    inner.remove_stored(bucket, &keys::delta_key(key)).await?;
    let response = inner
        .send(Request::from_parts(parts, body))
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
    body: RequestBody<B>,
) -> Outcome<S::Error, RB>
where
    S: InnerS3<B, RB>,
    B: ByteBody,
    RB: ByteBody,
{
    let xml = collect_limited(body, 4 << 20)
        .await
        .map_err(|e| S3Error::new("MalformedXML", StatusCode::BAD_REQUEST, e.to_string()))?;
    let request = parse_delete(&xml)?;
    let work: Vec<_> = request
        .keys
        .iter()
        .cloned()
        .map(|key| delete_both(inner, bucket, key))
        .collect();
    let results: Vec<_> = futures_util::stream::iter(work)
        .buffered(DELETE_CONCURRENCY)
        .collect()
        .await;
    let spaces: std::collections::BTreeSet<String> = request
        .keys
        .iter()
        .map(|k| keys::deltaspace(k).to_owned())
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
                .or_else(|| error_code(&failed.body))
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

/// The `<Code>` of an S3 error document.
fn error_code(xml: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(xml).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].to_owned())
}

/// A parsed `<Delete>` request.
#[derive(Debug, PartialEq, Eq)]
struct DeleteRequest {
    keys: Vec<String>,
    quiet: bool,
}

fn parse_delete(xml: &[u8]) -> Result<DeleteRequest, S3Error> {
    let malformed = || {
        S3Error::new(
            "MalformedXML",
            StatusCode::BAD_REQUEST,
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    };
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut request = DeleteRequest {
        keys: Vec::new(),
        quiet: false,
    };
    let mut saw_root = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|_| malformed())? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != "Delete" {
                        return Err(malformed());
                    }
                    saw_root = true;
                }
                if name == "Object" {
                    request.keys.push(String::new());
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|_| malformed())?;
                match path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                    ["Delete", "Object", "Key"] => {
                        if let Some(k) = request.keys.last_mut() {
                            k.push_str(&text);
                        }
                    }
                    ["Delete", "Quiet"] => request.quiet = text.trim() == "true",
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root || !path.is_empty() || request.keys.iter().any(String::is_empty) {
        return Err(malformed());
    }
    if request.keys.is_empty() || request.keys.len() > 1000 {
        return Err(malformed());
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let ok = parse_delete(
            b"<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet><Object><Key>a &amp; b.zip</Key></Object><Object><Key>c</Key><VersionId>1</VersionId></Object></Delete>",
        )
        .expect("valid");
        assert_eq!(ok.keys, vec!["a & b.zip".to_owned(), "c".to_owned()]);
        assert!(ok.quiet);
        for bad in [
            &b"<Delete><Object><Key>a</Key></Object>"[..],
            b"<Other/>",
            b"<Delete></Delete>",
            b"<Delete><Object></Object></Delete>",
            b"not xml <",
        ] {
            assert!(
                parse_delete(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
