//! ListObjectsV2 and DeleteObjects over R2.

use bytes::Bytes;
use deltaglider::s3::listing::{self, Echo, Entry, Object, Version};
use deltaglider::s3::query;
use deltaglider::s3::time::rfc3339_millis;
use deltaglider::{BoxError, Either, S3Error};
use http::StatusCode;
use http_body::Body;

use super::binding::R2Service;
use super::reply::{Answer, xml};
use crate::body::{r2_failed, read_limited};
use crate::xml::{MalformedXml, delete_result, parse_delete};

/// R2 lists at most this many keys per call, as S3 does.
const MAX_KEYS: u32 = 1000;

/// Handles ListObjectsV2. Continuation tokens are R2's list cursors.
pub(super) async fn list_v2(service: &R2Service, query: &str) -> Answer {
    let param = |name| query::param(query, name);
    let prefix = param("prefix").unwrap_or_default();
    let delimiter = param("delimiter").filter(|d| !d.is_empty());
    let token = param("continuation-token").filter(|t| !t.is_empty());
    let start_after = param("start-after").filter(|s| !s.is_empty());
    let max_keys = match param("max-keys") {
        None => MAX_KEYS,
        Some(n) => n
            .trim()
            .parse::<u32>()
            .map_err(|_| S3Error::invalid_argument("max-keys must be a number"))?
            .min(MAX_KEYS),
    };
    let echo = Echo {
        bucket: service.name(),
        prefix: &prefix,
        delimiter: delimiter.as_deref(),
        max_keys: max_keys as usize,
        url_encode: param("encoding-type").is_some_and(|e| e == "url"),
        owner: false,
        version: Version::V2 {
            start_after: start_after.as_deref(),
            continuation_token: token.as_deref(),
        },
    };
    if max_keys == 0 {
        return Ok(xml(listing::render(&echo, &[], None)));
    }
    let mut list = service.bucket().list().limit(max_keys);
    if !prefix.is_empty() {
        list = list.prefix(prefix.clone());
    }
    if let Some(d) = &delimiter {
        list = list.delimiter(d.clone());
    }
    match (&token, &start_after) {
        (Some(t), _) => list = list.cursor(t.clone()),
        (None, Some(s)) => list = list.start_after(s.clone()),
        (None, None) => {}
    }
    let listed = list.execute().await.map_err(|e| r2_failed("listing", &e))?;
    // Objects, then common prefixes, as R2 gives them.
    let entries: Vec<Entry> = listed
        .objects()
        .iter()
        .map(|o| {
            Entry::Object(Object {
                key: o.key(),
                size: o.size(),
                etag: Some(o.http_etag()),
                last_modified: Some(rfc3339_millis(o.uploaded().as_millis())),
                storage_class: Some("STANDARD".to_owned()),
                owner: None,
            })
        })
        .chain(listed.delimited_prefixes().into_iter().map(Entry::Prefix))
        .collect();
    let next = listed.cursor().filter(|_| listed.truncated());
    Ok(xml(listing::render(&echo, &entries, next.as_deref())))
}

/// R2 deletes at most this many keys per call.
const DELETE_BATCH: usize = 1000;

/// Handles DeleteObjects: one R2 batch delete per thousand keys.
pub(super) async fn delete_objects<B>(service: &R2Service, body: Either<B>) -> Answer
where
    B: Body<Data = Bytes> + 'static,
    B::Error: Into<BoxError>,
{
    let document = match body.into_full() {
        Ok(bytes) => bytes,
        Err(body) => read_limited(body, 2 << 20).await?,
    };
    let malformed =
        |e: MalformedXml| S3Error::new("MalformedXML", StatusCode::BAD_REQUEST, e.to_string());
    let (keys, quiet) = parse_delete(&document).map_err(malformed)?;
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for batch in keys.chunks(DELETE_BATCH) {
        let names: Vec<&str> = batch.iter().map(String::as_str).collect();
        match service.bucket().delete_multiple(names).await {
            Ok(()) => deleted.extend(batch.iter().cloned()),
            Err(e) => failed.extend(batch.iter().map(|k| (k.clone(), e.to_string()))),
        }
    }
    Ok(xml(delete_result(&deleted, &failed, quiet)))
}
