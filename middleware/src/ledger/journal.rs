//! The ledger's journal: one immutable object per write or delete, holding what it
//! changed, named so that names sort by time:
//! `.deltaglider/stats/journal/<20-digit µs>-<16 hex>.json`.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use deltaglider_codec::Sha256;
use http::{Method, header};
use serde_json::json;

use super::figures::{Spaces, spaces_from_json, spaces_to_json};
use crate::call::{Backend, Call};

pub(crate) use crate::stored::keys::LEDGER_PREFIX as PREFIX;
/// The journal's folder.
pub(crate) const JOURNAL: &str = ".deltaglider/stats/journal/";

/// Tells journal names written in the same microsecond apart, with the key and time.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A new journal entry's key, at `now_micros`, unique to this write.
pub(crate) fn entry_key(now_micros: u64, bucket: &str, key: &str) -> String {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let salt = format!("{bucket}\n{key}\n{now_micros}\n{n}\n{:p}", &SEQUENCE);
    let salt = Sha256::digest(salt.as_bytes());
    format!("{JOURNAL}{now_micros:020}-{}.json", &salt.to_hex()[..16])
}

/// The time a journal entry's key carries, in µs; `None` for keys of another form.
pub(crate) fn entry_time(key: &str) -> Option<u64> {
    let name = key.strip_prefix(JOURNAL)?.strip_suffix(".json")?;
    let (micros, salt) = name.split_once('-')?;
    (micros.len() == 20 && salt.len() == 16)
        .then(|| micros.parse().ok())
        .flatten()
}

/// Appends what one request changed. Best effort: the request's own write already
/// happened, so a journal write that fails is logged and counted, and the next
/// reconciliation corrects the figures.
pub(crate) async fn record<T: Backend>(call: Call<'_, T>, changes: &Spaces) {
    if changes.values().all(super::figures::Figures::is_zero) {
        return;
    }
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let entry_key = entry_key(inner.now_micros(), bucket, key);
    let body = Bytes::from(json!({ "v": 1, "spaces": spaces_to_json(changes) }).to_string());
    let request = inner
        .request(Method::PUT, bucket, &entry_key, "")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::IF_NONE_MATCH, "*");
    match inner.fetch(request, body, 64 << 10).await {
        Ok(written) if written.status.is_success() => {}
        Ok(written) => {
            shared.counters.ledger_failed();
            tracing::warn!(
                bucket,
                status = written.status.as_u16(),
                "could not write to the savings ledger; the next reconciliation corrects it"
            );
        }
        Err(_) => {
            shared.counters.ledger_failed();
            tracing::warn!(
                bucket,
                "backend unreachable writing to the savings ledger; the next reconciliation corrects it"
            );
        }
    }
}

/// The changes a journal entry holds; `None` if it is not one this version wrote.
pub(crate) fn parse(body: &[u8]) -> Option<Spaces> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if value.get("v")?.as_u64()? != 1 {
        return None;
    }
    spaces_from_json(value.get("spaces")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_parse_back() {
        let a = entry_key(1_700_000_000_000_000, "b", "k");
        let b = entry_key(1_700_000_000_000_001, "b", "k");
        assert!(a < b);
        assert_eq!(entry_time(&a), Some(1_700_000_000_000_000));
        assert_ne!(entry_key(5, "b", "k"), entry_key(5, "b", "k"));
        assert_eq!(entry_time(".deltaglider/stats/journal/x.json"), None);
        assert_eq!(parse(b"{\"v\":2,\"spaces\":{}}"), None);
        assert_eq!(parse(b"{\"v\":1,\"spaces\":{}}"), Some(Spaces::new()));
    }
}
