//! DeleteObject and DeleteObjects: remove whichever stored form of each key exists.
//!
//! When the last delta of a deltaspace goes, its reference goes too
//! ([`unused::remove_unused_references`], safe against concurrent uploads).

use futures_util::StreamExt;
use http::{HeaderValue, Request, Response, StatusCode, header, request::Parts};

use crate::body::{Either, RequestBody, collect_limited};
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::{Fetched, Stop};
use crate::ledger::change;
use crate::ledger::figures::Figures;
use crate::ops::versions;
use crate::refs::unused;
use crate::s3::error::S3Error;
use crate::s3::xml;
use crate::s3::xml::escape_into;
use crate::stored::keys;
use conditions::Conditions;

mod conditions;

/// Deletes in flight at once for DeleteObjects.
const DELETE_CONCURRENCY: usize = 16;

/// Handles DeleteObject.
pub(crate) async fn delete<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    keys::check_user_key(key).map_err(S3Error::from)?;
    // Reads look for a delta only of eligible keys; so do deletes. Any other key is the
    // backend's alone, conditions and versions included (and on a versioned bucket,
    // deleting an absent `.delta` would leave a delete marker).
    let versioned = parts.uri.query().is_some_and(|q| q.contains("versionId="));
    if !shared.config.is_eligible(key) {
        let before = (!versioned)
            .then_some(())
            .map(|()| change::stored_now(call, false));
        let before = match before {
            Some(before) => before.await,
            None => None,
        };
        let response = inner
            .send(Request::from_parts(parts, body))
            .await
            .map_err(Stop::Inner)?;
        if response.status().is_success() {
            change::record(call, before, Figures::default()).await;
        }
        return Ok(response.map(Either::passthrough));
    }
    let conditions = Conditions::from_headers(&parts.headers)?;
    if !conditions.is_empty() {
        let current = conditions::current(call).await?;
        if current.is_some_and(|c| !conditions.hold(&c)) {
            return Err(conditions::failed().into());
        }
    }
    let mut parts = parts;
    for name in conditions::HEADERS {
        parts.headers.remove(name);
    }
    let before = change::stored_now(call, false).await;
    inner.remove_stored(bucket, &keys::delta_key(key)).await?;
    let response = inner
        .send(Request::from_parts(parts, body))
        .await
        .map_err(Stop::Inner)?;
    if response.status().is_success() {
        change::record(call, before, Figures::default()).await;
        unused::remove_unused_references(call, keys::deltaspace(key)).await;
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
pub(crate) async fn delete_many<T: Backend>(
    call: Call<'_, T>,
    parts: Parts,
    body: RequestBody<T::Body>,
) -> Outcome<T> {
    let Call { shared, inner, .. } = call;
    let xml = collect_limited(body, 4 << 20)
        .await
        .map_err(|e| S3Error::new("MalformedXML", StatusCode::BAD_REQUEST, e.to_string()))?;
    let request = xml::parse_delete(&xml).map_err(S3Error::from)?;
    // No key can be a delta: the backend's own answer is the right one (versions, delete
    // markers, object lock, conditions), so the request goes on untouched.
    let plain = |o: &xml::DeleteObject| {
        !shared.config.is_eligible(&o.key) && keys::check_user_key(&o.key).is_ok()
    };
    if request.objects.iter().all(plain) {
        let response = inner
            .send(Request::from_parts(parts, Either::full(xml)))
            .await
            .map_err(Stop::Inner)?;
        return Ok(response.map(Either::passthrough));
    }
    let work: Vec<_> = request
        .objects
        .iter()
        .map(|object| delete_one(call, object))
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
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let out = delete_result(&results, request.quiet);
    for space in &spaces {
        unused::remove_unused_references(call, space).await;
    }
    let mut response = Response::new(Either::full(out));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    Ok(response)
}

/// The `DeleteResult` document: every failure, and the deleted keys unless `quiet`.
fn delete_result(results: &[KeyResult], quiet: bool) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    for result in results {
        match result {
            KeyResult::Deleted(key) if !quiet => {
                out.push_str("<Deleted><Key>");
                escape_into(&mut out, key);
                out.push_str("</Key></Deleted>");
            }
            KeyResult::Deleted(_) => {}
            KeyResult::Failed { key, code, message } => {
                out.push_str("<Error><Key>");
                escape_into(&mut out, key);
                out.push_str("</Key><Code>");
                escape_into(&mut out, code);
                out.push_str("</Code><Message>");
                escape_into(&mut out, message);
                out.push_str("</Message></Error>");
            }
        }
    }
    out.push_str("</DeleteResult>");
    out
}

/// One object of a DeleteObjects request: its conditions, then its stored forms (or the
/// version it names, of a key never stored as a delta).
async fn delete_one<T: Backend>(
    call: Call<'_, T>,
    object: &xml::DeleteObject,
) -> Result<KeyResult, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let key = object.key.clone();
    let refuse = |e: S3Error| KeyResult::Failed {
        key: object.key.clone(),
        code: e.code().into(),
        message: e.message().into(),
    };
    if let Err(e) = keys::check_user_key(&key) {
        return Ok(refuse(e.into()));
    }
    let conditions = match Conditions::from_object(object) {
        Ok(c) => c,
        Err(e) => return Ok(refuse(e)),
    };
    if !conditions.is_empty() {
        let current = conditions::current(call.on(&key)).await?;
        if current.is_some_and(|c| !conditions.hold(&c)) {
            return Ok(refuse(conditions::failed()));
        }
    }
    if let Some(version) = &object.version_id {
        if shared.config.is_eligible(&key) {
            return Ok(refuse(versions::refusal()));
        }
        let query = format!("versionId={}", crate::s3::query::query_value(version));
        let request = inner.request(http::Method::DELETE, bucket, &key, &query);
        let deleted = inner.fetch(request, bytes::Bytes::new(), 64 << 10).await?;
        if !(deleted.status.is_success() || deleted.status == StatusCode::NOT_FOUND) {
            return Ok(backend_failure(key, &deleted));
        }
        return Ok(KeyResult::Deleted(key));
    }
    let delta = shared
        .config
        .is_eligible(&key)
        .then(|| keys::delta_key(&key));
    let before = change::stored_now(call.on(&key), false).await;
    for stored in delta.into_iter().chain([key.clone()]) {
        if let Some(failed) = inner.delete_stored(bucket, &stored).await? {
            return Ok(backend_failure(key, &failed));
        }
    }
    change::record(call.on(&key), before, Figures::default()).await;
    Ok(KeyResult::Deleted(key))
}

/// A key the backend refused to delete, with the backend's error code.
fn backend_failure(key: String, failed: &Fetched) -> KeyResult {
    let code = failed
        .headers
        .get("x-amz-error-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| xml::error_code(&failed.body))
        .unwrap_or_else(|| "InternalError".into());
    KeyResult::Failed {
        key,
        code,
        message: format!("the backend answered {}", failed.status),
    }
}
