//! ListObjectsV2 and ListObjects: user keys only, in user-key order, with original sizes
//! and ETags.

mod order;

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderValue, Method, Response, StatusCode, header, request::Parts};
use percent_encoding::percent_decode_str;

use crate::body::Either;
use crate::call::{Backend, Call, Outcome, Stopped};
use crate::inner::pass_error;
use crate::s3::error::S3Error;
use crate::s3::listing::{self, Echo, Entry, Object};
use crate::stored::keys::{self, DELTA_SUFFIX};
use crate::stored::meta::ObjectMeta;

/// HEAD requests in flight at once while filling in original sizes.
const HEAD_CONCURRENCY: usize = 16;

/// The request's listing parameters.
struct Params {
    prefix: String,
    delimiter: Option<String>,
    max_keys: usize,
    url_encode: bool,
    fetch_owner: bool,
    start_after: Option<String>,
    token: Option<String>,
    marker: Option<String>,
}

impl Params {
    fn parse(query: &str, v2: bool) -> Result<Self, S3Error> {
        let mut p = Self {
            prefix: String::new(),
            delimiter: None,
            max_keys: 1000,
            url_encode: false,
            // ListObjects (v1) always names owners; v2 only when asked.
            fetch_owner: !v2,
            start_after: None,
            token: None,
            marker: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            match name {
                "prefix" => p.prefix = value,
                "delimiter" if !value.is_empty() => p.delimiter = Some(value),
                "max-keys" => {
                    let n: i64 = value
                        .parse()
                        .map_err(|_| S3Error::invalid_argument("max-keys must be an integer"))?;
                    if n < 0 {
                        return Err(S3Error::invalid_argument("max-keys must not be negative"));
                    }
                    p.max_keys = n.min(1000) as usize;
                }
                "encoding-type" if value == "url" => p.url_encode = true,
                "encoding-type" => {
                    return Err(S3Error::invalid_argument(
                        "Invalid Encoding Method specified in Request",
                    ));
                }
                "fetch-owner" if v2 => p.fetch_owner = value == "true",
                "start-after" if v2 => p.start_after = Some(value),
                "continuation-token" if v2 => p.token = Some(value),
                "marker" if !v2 => p.marker = Some(value),
                _ => {}
            }
        }
        Ok(p)
    }

    /// The user key after which this page starts.
    fn resume(&self) -> Result<Option<String>, S3Error> {
        match &self.token {
            Some(token) => listing::decode_token(token).map(Some),
            None => Ok(self.start_after.clone().or_else(|| self.marker.clone())),
        }
    }
}

/// Handles ListObjectsV2 (`v2`) and ListObjects.
pub(crate) async fn list<T: Backend>(call: Call<'_, T>, parts: Parts, v2: bool) -> Outcome<T> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let params = Params::parse(parts.uri.query().unwrap_or(""), v2)?;
    let resume = params.resume()?;
    let delimiter = params.delimiter.as_deref();
    // The backend may group by the delimiter itself unless an occurrence of it could end
    // inside a ".delta" suffix; then we group in user-key space.
    let inner_delimiter =
        delimiter.filter(|d| !matches!(d.chars().last(), Some('.' | 'd' | 'e' | 'l' | 't' | 'a')));
    let wanted = params.max_keys + 1;
    let mut ready: Vec<Entry> = Vec::new();
    let mut pending: BTreeMap<String, Entry> = BTreeMap::new();
    let mut inner_token: Option<String> = None;
    let mut exhausted = params.max_keys == 0;
    while !exhausted {
        // Not `encoding-type=url`, though XML 1.0 cannot carry every character a key may
        // hold: some backends (s3s-fs) echo `<EncodingType>url` without encoding, and
        // decoding their raw keys would turn every `+` into a space.
        let mut query = format!(
            "list-type=2&max-keys={}&prefix={}",
            shared.config.list_page_size,
            crate::s3::query::query_value(&params.prefix)
        );
        if params.fetch_owner {
            query.push_str("&fetch-owner=true");
        }
        if let Some(d) = inner_delimiter {
            query.push_str(&format!("&delimiter={}", crate::s3::query::query_value(d)));
        }
        match (&inner_token, &resume) {
            (Some(t), _) => query.push_str(&format!(
                "&continuation-token={}",
                crate::s3::query::query_value(t)
            )),
            (None, Some(r)) => query.push_str(&format!(
                "&start-after={}",
                crate::s3::query::query_value(r)
            )),
            (None, None) => {}
        }
        let request = inner.request(Method::GET, bucket, "", &query);
        let fetched = inner.fetch(request, Bytes::new(), 64 << 20).await?;
        if !fetched.status.is_success() {
            return Err(pass_error(fetched));
        }
        let page = listing::parse(&fetched.body)?;
        let cursor = page
            .objects
            .last()
            .map(|o| o.key.clone())
            .into_iter()
            .chain(page.prefixes.last().cloned())
            .max();
        // Nothing at or before the resume point or the last entry already taken: the
        // same common prefix can roll up keys from several backend pages.
        let floor = ready
            .last()
            .map(|e| e.name().to_owned())
            .or_else(|| resume.clone());
        for object in page.objects {
            if keys::is_reference(&object.key) {
                continue;
            }
            let (user, delta) = match object.key.strip_suffix(DELTA_SUFFIX) {
                Some(user) => (user.to_owned(), true),
                None => (object.key.clone(), false),
            };
            if !user.starts_with(&params.prefix) {
                continue;
            }
            let entry = match group(&user, &params.prefix, delimiter) {
                Some(prefix) => Entry::Prefix(prefix),
                None => Entry::Object(Object {
                    key: user,
                    delta,
                    ..object
                }),
            };
            admit(&mut pending, entry, floor.as_deref());
        }
        for prefix in page.prefixes {
            admit(&mut pending, Entry::Prefix(prefix), floor.as_deref());
        }
        if page.truncated {
            match (page.next_token, &cursor) {
                (Some(t), _) => inner_token = Some(t),
                _ => {
                    return Err(
                        S3Error::internal("backend listing truncated without a token").into(),
                    );
                }
            }
        } else {
            exhausted = true;
        }
        // Entries below the bound can no longer be preceded by anything still to come.
        let bound = match (&cursor, exhausted) {
            (Some(c), false) => Some(order::lower_bound(c).to_owned()),
            _ => None,
        };
        while let Some(entry) = pending.first_entry() {
            if bound.as_ref().is_some_and(|b| entry.key() >= b) {
                break;
            }
            ready.push(entry.remove());
        }
        // One backend page per client page: with more backend keys to come, answer with
        // what is ready (S3 pages may hold fewer than max-keys entries) rather than fetch
        // another backend page only to learn whether this one is truncated.
        if ready.len() >= wanted || (!ready.is_empty() && !exhausted) {
            break;
        }
    }
    let truncated = ready.len() > params.max_keys || !pending.is_empty() || !exhausted;
    ready.truncate(params.max_keys);
    let next = truncated
        .then(|| ready.last().map(|e| e.name().to_owned()))
        .flatten();
    resolve_twins(call, &mut ready).await?;
    fill_originals(call, &mut ready).await?;

    let echo = Echo {
        bucket,
        prefix: &params.prefix,
        delimiter,
        max_keys: params.max_keys,
        url_encode: params.url_encode,
        owner: params.fetch_owner,
        v2: v2.then_some((params.start_after.as_deref(), params.token.as_deref())),
        marker: params.marker.as_deref(),
    };
    let body = listing::render(&echo, &ready, next.as_deref());
    let mut response = Response::new(Either::full(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    Ok(response)
}

/// Adds an entry unless it is at or before `floor`. Both stored forms of one key become
/// one delta entry holding the other as its twin, resolved by [`resolve_twins`].
fn admit(pending: &mut BTreeMap<String, Entry>, entry: Entry, floor: Option<&str>) {
    if floor.is_some_and(|f| entry.name() <= f) {
        return;
    }
    let name = entry.name().to_owned();
    let entry = match (pending.remove(&name), entry) {
        (Some(Entry::Object(old)), Entry::Object(new)) if old.delta != new.delta => {
            let (mut delta, whole) = if old.delta { (old, new) } else { (new, old) };
            delta.whole_twin = Some(Box::new(whole));
            Entry::Object(delta)
        }
        (_, entry) => entry,
    };
    pending.insert(name, entry);
}

/// Delta entries whose key is also stored whole (a writer was interrupted between writing
/// one form and removing the other) become whichever form GET serves: the later written.
async fn resolve_twins<T: Backend>(
    call: Call<'_, T>,
    entries: &mut [Entry],
) -> Result<(), Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    for entry in entries.iter_mut() {
        let Entry::Object(object) = entry else {
            continue;
        };
        let Some(whole) = object.whole_twin.take() else {
            continue;
        };
        let delta_head = inner.head(bucket, &keys::delta_key(&object.key)).await?;
        let whole_head = inner.head(bucket, &object.key).await?;
        let found = |f: &crate::inner::Fetched| match f.status {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            _ => Err(()),
        };
        let whole_current = match (found(&delta_head), found(&whole_head)) {
            (Ok(_), Ok(false)) => false,
            (Ok(false), Ok(true)) => true,
            (Ok(true), Ok(true)) => crate::stored::current::whole_wins(
                &crate::stored::current::Written::of(&delta_head.headers),
                &crate::stored::current::Written::of(&whole_head.headers),
            ),
            (Err(()), _) => return Err(pass_error(delta_head)),
            (_, Err(())) => return Err(pass_error(whole_head)),
        };
        if whole_current {
            *object = *whole;
        }
    }
    Ok(())
}

/// The common prefix `key` rolls up into, if the delimiter occurs after the prefix.
fn group(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter?;
    let rest = &key[prefix.len()..];
    rest.find(d)
        .map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
}

/// Replaces the stored size and ETag of delta entries with the original's.
async fn fill_originals<T: Backend>(
    call: Call<'_, T>,
    entries: &mut Vec<Entry>,
) -> Result<(), Stopped<T>> {
    // Plain futures of a named `async fn`, collected first: a closure inside the stream
    // combinator would make the future's `Send`-ness depend on higher-ranked lifetimes.
    let lookups: Vec<_> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Entry::Object(o) if o.delta => {
                Some(original_of(call, i, o.key.clone(), version_tag(o)))
            }
            _ => None,
        })
        .collect();
    let results: Vec<_> = futures_util::stream::iter(lookups)
        .buffered(HEAD_CONCURRENCY)
        .collect()
        .await;
    let mut gone = Vec::new();
    for result in results {
        match result? {
            (i, Some((size, etag))) => {
                if let Entry::Object(o) = &mut entries[i] {
                    o.size = size;
                    o.etag = Some(etag);
                }
            }
            (i, None) => gone.push(i),
        }
    }
    // Entries deleted between the listing and the HEAD are gone: drop them.
    for i in gone.into_iter().rev() {
        entries.remove(i);
    }
    Ok(())
}

/// The original size and ETag of the delta entry `i` (user key `key`), or `None` when it
/// was deleted since the listing.
async fn original_of<T: Backend>(
    call: Call<'_, T>,
    i: usize,
    key: String,
    version: Option<String>,
) -> Result<(usize, Option<(u64, String)>), Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        ..
    } = call;
    let stored_key = keys::delta_key(&key);
    if let Some(hit) = version
        .as_deref()
        .and_then(|v| shared.originals.get(bucket, &stored_key, v))
    {
        return Ok((i, Some(hit)));
    }
    let fetched = inner.head(bucket, &stored_key).await?;
    if fetched.status == StatusCode::NOT_FOUND {
        return Ok((i, None));
    }
    if !fetched.status.is_success() {
        return Err(pass_error(fetched));
    }
    let meta = ObjectMeta::parse(&stored_key, |n| fetched.meta(n))
        .map_err(|e| S3Error::internal(format!("{stored_key}: {e}")))?;
    let original = (meta.file_size.unwrap_or(0), meta.etag());
    if let Some(version) = &version {
        shared
            .originals
            .insert(bucket, &stored_key, version, original.clone());
    }
    Ok((i, Some(original)))
}

/// What identifies this version of a stored delta in a listing: its ETag, or, from
/// backends whose listings carry none, its modification time and size.
fn version_tag(object: &Object) -> Option<String> {
    match (&object.etag, &object.last_modified) {
        (Some(etag), _) => Some(etag.clone()),
        (None, Some(modified)) => Some(format!("{modified}/{}", object.size)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(group("a/b/c", "", Some("/")).as_deref(), Some("a/"));
        assert_eq!(group("a/b/c", "a/", Some("/")).as_deref(), Some("a/b/"));
        assert_eq!(group("a/b", "a/", Some("/")), None);
        assert_eq!(group("a.b.c", "", Some(".")).as_deref(), Some("a."));
        assert_eq!(group("abc", "", None), None);
    }
}
