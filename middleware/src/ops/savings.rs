//! The savings API, under the layer's own path (no bucket name starts with `_`):
//!
//! - `GET /_deltaglider/api/savings[?bucket=NAME]`: every bucket's figures from its
//!   savings ledger (`crate::ledger`) — totals, deltaspaces, history. A bucket whose
//!   ledger has no summary yet is counted by a scan first.
//! - `POST /_deltaglider/api/reconcile?bucket=NAME`: the bucket counted afresh.
//!
//! Figures only: bucket names and deltaspace prefixes, never object keys or contents.
//! Whoever reaches the layer with this path may read them (the host decides who).

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header, request::Parts};
use serde_json::{Map, Value, json};

use crate::body::Either;
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::pass_error;
use crate::ledger::figures::total;
use crate::ledger::scan::reconcile;
use crate::ledger::summary::{self, Summary};
use crate::s3::error::S3Error;
use crate::s3::time::rfc3339_micros;

/// The path prefix the API answers under.
pub(crate) const PATH: &str = "/_deltaglider/api/";

/// Serves one API request; `call` names no bucket (each request names its own).
pub(crate) async fn serve<T: Backend>(call: Call<'_, T>, parts: &Parts) -> Outcome<T> {
    let endpoint = parts.uri.path().strip_prefix(PATH).unwrap_or("");
    let bucket = query_bucket(parts.uri.query().unwrap_or(""));
    let document = match (&parts.method, endpoint) {
        (&Method::GET, "savings") => {
            let buckets = match bucket {
                Some(b) => vec![b],
                None => bucket_names(call).await?,
            };
            let mut out = Vec::with_capacity(buckets.len());
            for name in &buckets {
                out.push(bucket_savings(call.at(name, ""), false).await?);
            }
            json!({
                "generated_at": rfc3339_micros(call.inner.now_micros()),
                "buckets": out,
            })
        }
        (&Method::POST, "reconcile") => {
            let Some(name) = bucket else {
                return Err(S3Error::new(
                    "InvalidArgument",
                    StatusCode::BAD_REQUEST,
                    "reconcile needs ?bucket=NAME",
                )
                .into());
            };
            bucket_savings(call.at(&name, ""), true).await?
        }
        _ => {
            return Err(S3Error::new(
                "NotFound",
                StatusCode::NOT_FOUND,
                "no such endpoint: GET savings, POST reconcile",
            )
            .into());
        }
    };
    let mut response = Response::new(Either::full(Bytes::from(document.to_string())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `bucket=NAME` of the query, percent-decoded.
fn query_bucket(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let value = pair.strip_prefix("bucket=")?;
        let decoded = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()?;
        (!decoded.is_empty()).then(|| decoded.into_owned())
    })
}

/// The backend's buckets (ListBuckets).
async fn bucket_names<T: Backend>(call: Call<'_, T>) -> Result<Vec<String>, Stopped<T>> {
    let inner = call.inner;
    let request = inner.request(Method::GET, "", "", "");
    let listed = inner.fetch(request, Bytes::new(), 16 << 20).await?;
    if !listed.status.is_success() {
        return Err(pass_error(listed));
    }
    let elements = crate::s3::xml::elements(&listed.body)
        .map_err(|e| S3Error::internal(format!("the backend's bucket list: {e}")))?;
    Ok(elements
        .into_iter()
        .filter(|e| e.is(&["ListAllMyBucketsResult", "Buckets", "Bucket", "Name"]))
        .map(|e| e.text)
        .collect())
}

/// One bucket's figures: from its ledger (folding it when due), or counted afresh when
/// `fresh` or when it has no summary yet.
async fn bucket_savings<T: Backend>(call: Call<'_, T>, fresh: bool) -> Result<Value, Stopped<T>> {
    let ledger = if fresh {
        None
    } else {
        summary::read(call).await?
    };
    let now = match ledger {
        Some(ledger) => {
            summary::maybe_fold(call, &ledger).await;
            ledger.now
        }
        None => reconcile(call).await?,
    };
    Ok(report(call.bucket, &now, call.inner.now_micros()))
}

/// The API's JSON of one bucket's `summary`, with a history point for `now`.
fn report(bucket: &str, summary: &Summary, now: u64) -> Value {
    let sum = total(&summary.spaces);
    let mut out: Map<String, Value> = Map::new();
    out.insert("bucket".into(), json!(bucket));
    out.extend(sum.report());
    out.insert(
        "reconciled_at".into(),
        json!(summary.reconciled_at.map(rfc3339_micros)),
    );
    out.insert(
        "updated_at".into(),
        json!(rfc3339_micros(summary.updated_at)),
    );
    let spaces: Vec<Value> = summary
        .spaces
        .iter()
        .map(|(prefix, figures)| {
            let mut one = Map::new();
            one.insert("prefix".into(), json!(prefix));
            one.extend(figures.report());
            Value::Object(one)
        })
        .collect();
    out.insert("deltaspaces".into(), Value::Array(spaces));
    let mut history: Vec<Value> = summary
        .history
        .iter()
        .map(|(at, original, stored)| {
            json!({"at": rfc3339_micros(*at), "original_bytes": original, "stored_bytes": stored})
        })
        .collect();
    history.push(json!({
        "at": rfc3339_micros(now),
        "original_bytes": sum.original_bytes,
        "stored_bytes": sum.total_stored(),
    }));
    out.insert("history".into(), Value::Array(history));
    Value::Object(out)
}
