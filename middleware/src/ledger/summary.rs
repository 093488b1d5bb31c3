//! Reading the ledger of a bucket: the latest summary plus the journal written since; and
//! folding that journal into a new summary.
//!
//! Summaries are immutable and named by the time up to which they hold the journal
//! (`.deltaglider/stats/summary/<20-digit µs>.json`); the latest name wins. Two readers
//! that fold at once write the same name (the second create fails, harmlessly) or two
//! names of which the later holds more. Entries are folded only once they are older
//! than [`GRACE_MICROS`], so an entry still being written when a reader lists is not
//! passed over; entries folded in, and older summaries, are then deleted.

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::figures::{Spaces, add_spaces, spaces_from_json, spaces_to_json, total};
use super::journal;
use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::listings::{self, Depth};
use crate::s3::listing;

/// The summaries' folder.
pub(crate) const SUMMARY: &str = ".deltaglider/stats/summary/";
/// How old a journal entry must be to be folded into a summary.
pub(crate) const GRACE_MICROS: u64 = 60_000_000;
/// Unfolded entries that make a reader fold.
const FOLD_AT: usize = 64;
/// A summary older than this is renewed on a read when anything can be folded (one
/// point of the history chart per renewal).
const RENEW_MICROS: u64 = 3_600_000_000;
/// Points of history a summary keeps.
const MAX_HISTORY: usize = 720;
/// Requests in flight at once while reading or cleaning the ledger.
const CONCURRENCY: usize = 16;

/// One point of a bucket's history: when, original bytes, stored bytes (references
/// included).
pub(crate) type Point = (u64, i64, i64);

/// A bucket's figures as of a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Summary {
    /// By deltaspace.
    pub(crate) spaces: Spaces,
    /// Journal entries up to this time (µs) are held in `spaces`.
    pub(crate) folded_through: u64,
    /// When a scan last counted the bucket afresh (µs).
    pub(crate) reconciled_at: Option<u64>,
    /// When this summary was written (µs).
    pub(crate) updated_at: u64,
    /// The bucket's totals over time.
    pub(crate) history: Vec<Point>,
}

impl Summary {
    /// The summary's key.
    pub(crate) fn key(&self) -> String {
        format!("{SUMMARY}{:020}.json", self.folded_through)
    }

    fn to_json(&self) -> Value {
        json!({
            "v": 1,
            "folded_through": self.folded_through,
            "reconciled_at": self.reconciled_at,
            "updated_at": self.updated_at,
            "spaces": spaces_to_json(&self.spaces),
            "history": self.history,
        })
    }

    fn parse(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        if v.get("v")?.as_u64()? != 1 {
            return None;
        }
        let history = v
            .get("history")?
            .as_array()?
            .iter()
            .map(|p| {
                let p = p.as_array()?;
                Some((
                    p.first()?.as_u64()?,
                    p.get(1)?.as_i64()?,
                    p.get(2)?.as_i64()?,
                ))
            })
            .collect::<Option<Vec<Point>>>()?;
        Some(Self {
            spaces: spaces_from_json(v.get("spaces")?)?,
            folded_through: v.get("folded_through")?.as_u64()?,
            reconciled_at: v.get("reconciled_at").and_then(Value::as_u64),
            updated_at: v.get("updated_at")?.as_u64()?,
            history,
        })
    }

    /// Adds a point for `now` to the history, thinning the older half when it is full.
    pub(crate) fn mark(&mut self, now: u64) {
        let sum = total(&self.spaces);
        self.history
            .push((now, sum.original_bytes, sum.total_stored()));
        if self.history.len() > MAX_HISTORY {
            let half = self.history.len() / 2;
            let older: Vec<Point> = self.history[..half].iter().step_by(2).copied().collect();
            self.history.splice(..half, older);
        }
    }
}

/// The ledger of a bucket as read now.
#[derive(Debug)]
pub(crate) struct Ledger {
    /// The latest summary with the journal since added in (`updated_at`: the latest
    /// entry's time, or the summary's).
    pub(crate) now: Summary,
    /// The summary as stored, and the journal entries not in it: (key, time, changes).
    base: Summary,
    pending: Vec<(String, u64, Spaces)>,
    summaries: Vec<String>,
}

/// Reads the ledger of the call's bucket; `None` when it has no summary yet (never
/// reconciled, or its summary does not parse: a scan must count it).
pub(crate) async fn read<T: Backend>(call: Call<'_, T>) -> Result<Option<Ledger>, Stopped<T>> {
    // An entry deleted between the listing and its read was folded by another reader
    // meanwhile: the listing is taken again.
    for _ in 0..3 {
        if let Some(read) = read_once(call).await? {
            return Ok(read);
        }
    }
    Err(crate::s3::error::S3Error::internal("the savings ledger kept changing while read").into())
}

async fn read_once<T: Backend>(call: Call<'_, T>) -> Result<Option<Option<Ledger>>, Stopped<T>> {
    let keys = list_all(call, ".deltaglider/stats/").await?;
    let mut summaries: Vec<String> = keys
        .iter()
        .filter(|k| k.starts_with(SUMMARY))
        .cloned()
        .collect();
    summaries.sort();
    let Some(latest) = summaries.last() else {
        return Ok(Some(None));
    };
    let Some(body) = get(call, latest).await? else {
        return Ok(None);
    };
    let Some(base) = Summary::parse(&body) else {
        tracing::warn!(
            bucket = call.bucket,
            key = latest,
            "a ledger summary does not parse; counting the bucket again"
        );
        return Ok(Some(None));
    };
    let entries: Vec<(String, u64)> = keys
        .into_iter()
        .filter_map(|k| journal::entry_time(&k).map(|t| (k, t)))
        .filter(|(_, t)| *t > base.folded_through)
        .collect();
    let reads = entries.into_iter().map(|(k, t)| read_entry(call, k, t));
    let mut read: Vec<_> = futures_util::stream::iter(reads)
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut pending = Vec::with_capacity(read.len());
    for one in read.drain(..) {
        let Some((k, t, body)) = one? else {
            return Ok(None);
        };
        match journal::parse(&body) {
            Some(changes) => pending.push((k, t, changes)),
            None => tracing::warn!(
                bucket = call.bucket,
                key = k,
                "a ledger entry does not parse; left out"
            ),
        }
    }
    let mut now = base.clone();
    for (_, t, changes) in &pending {
        add_spaces(&mut now.spaces, changes);
        now.updated_at = now.updated_at.max(*t);
    }
    Ok(Some(Some(Ledger {
        now,
        base,
        pending,
        summaries,
    })))
}

/// Folds what of the journal is old enough into a new summary when enough has gathered
/// (or the summary is old), and deletes what that made redundant. Best effort: a reader
/// that cannot fold leaves it to the next.
pub(crate) async fn maybe_fold<T: Backend>(call: Call<'_, T>, ledger: &Ledger) {
    let now = call.inner.now_micros();
    let ripe: Vec<&(String, u64, Spaces)> = ledger
        .pending
        .iter()
        .filter(|(_, t, _)| t.saturating_add(GRACE_MICROS) < now)
        .collect();
    let old = ledger.base.updated_at.saturating_add(RENEW_MICROS) < now;
    if ripe.is_empty() || (ripe.len() < FOLD_AT && !old) {
        return;
    }
    let mut next = ledger.base.clone();
    for (_, t, changes) in &ripe {
        add_spaces(&mut next.spaces, changes);
        next.folded_through = next.folded_through.max(*t);
    }
    next.updated_at = now;
    next.mark(now);
    let folded: Vec<String> = ripe.iter().map(|(k, _, _)| k.clone()).collect();
    if let Err(e) = write_summary(call, &next, &ledger.summaries, &folded).await {
        tracing::debug!(
            bucket = call.bucket,
            status = e,
            "folding the savings ledger failed; left for later"
        );
    }
}

/// Creates `summary` (if it is new), then deletes the `folded` entries and the
/// `older` summaries. Err: the status of a create that failed.
pub(crate) async fn write_summary<T: Backend>(
    call: Call<'_, T>,
    summary: &Summary,
    older: &[String],
    folded: &[String],
) -> Result<(), u16> {
    let Call { inner, bucket, .. } = call;
    let key = summary.key();
    let request = inner
        .request(Method::PUT, bucket, &key, "")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::IF_NONE_MATCH, "*");
    let body = Bytes::from(summary.to_json().to_string());
    let status = match inner.fetch(request, body, 64 << 10).await {
        Ok(written) => written.status,
        Err(_) => return Err(0),
    };
    if !(status.is_success() || status == StatusCode::PRECONDITION_FAILED) {
        return Err(status.as_u16());
    }
    let doomed: Vec<String> = folded
        .iter()
        .chain(older.iter().filter(|k| **k < key))
        .cloned()
        .collect();
    let doomed = doomed.into_iter().map(|k| delete_quietly(call, k));
    futures_util::stream::iter(doomed)
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    Ok(())
}

/// One journal entry's body, with its key and time; `None` if it is gone.
async fn read_entry<T: Backend>(
    call: Call<'_, T>,
    key: String,
    time: u64,
) -> Result<Option<(String, u64, Bytes)>, Stopped<T>> {
    let body = get(call, &key).await?;
    Ok(body.map(|b| (key, time, b)))
}

/// Deletes one ledger object, best effort (what stays is deleted by a later fold).
async fn delete_quietly<T: Backend>(call: Call<'_, T>, key: String) {
    let _ = call.inner.delete_stored(call.bucket, &key).await;
}

/// GETs one ledger object; `None` if it does not exist.
async fn get<T: Backend>(call: Call<'_, T>, key: &str) -> Result<Option<Bytes>, Stopped<T>> {
    let Call { inner, bucket, .. } = call;
    let fetched = inner
        .fetch(
            inner.request(Method::GET, bucket, key, ""),
            Bytes::new(),
            16 << 20,
        )
        .await?;
    match fetched.status {
        s if s.is_success() => Ok(Some(fetched.body)),
        StatusCode::NOT_FOUND => Ok(None),
        _ => Err(pass_error(fetched)),
    }
}

/// Every stored key under `prefix`, with no delimiter (all levels).
pub(crate) async fn list_all<T: Backend>(
    call: Call<'_, T>,
    prefix: &str,
) -> Result<Vec<String>, Stopped<T>> {
    let mut keys = Vec::new();
    list_each(call, prefix, |o| keys.push(o.key)).await?;
    Ok(keys)
}

/// Calls `each` on every stored object under `prefix`, all levels, page by page.
pub(crate) async fn list_each<T: Backend>(
    call: Call<'_, T>,
    prefix: &str,
    mut each: impl FnMut(listing::Object),
) -> Result<(), Stopped<T>> {
    let mut token: Option<String> = None;
    loop {
        let page = listings::page(call, prefix, Depth::All, token.as_deref()).await?;
        page.objects.into_iter().for_each(&mut each);
        match (page.truncated, page.next_token) {
            (true, Some(t)) => token = Some(t),
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::figures::Figures;

    #[test]
    fn summaries_round_trip_and_history_stays_bounded() {
        let mut s = Summary {
            spaces: Spaces::from([("a/".to_owned(), Figures::object(100, 10, true))]),
            folded_through: 42,
            reconciled_at: Some(40),
            updated_at: 43,
            history: Vec::new(),
        };
        for t in 0..2000 {
            s.mark(t);
        }
        assert!(s.history.len() <= MAX_HISTORY);
        assert_eq!(s.history.last(), Some(&(1999, 100, 10)));
        assert!(s.history.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            Summary::parse(&serde_json::to_vec(&s.to_json()).expect("serialises")),
            Some(s.clone())
        );
        assert_eq!(
            s.key(),
            ".deltaglider/stats/summary/00000000000000000042.json"
        );
    }
}
