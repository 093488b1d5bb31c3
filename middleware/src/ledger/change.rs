//! What a write or delete of one key changes in its deltaspace's figures: the stored
//! forms it replaces or removes, found by HEADs before it.

use http::StatusCode;

use super::figures::{Figures, Spaces};
use super::journal;
use crate::call::{Backend, Call};
use crate::stored::keys;
use crate::stored::meta::ObjectMeta;

/// The figures of what is stored for the call's key now: its delta and its whole form,
/// whichever exist. `delta_only` looks at the delta alone (the whole form is already
/// the new object, as after a completed multipart upload). `None` when a HEAD failed:
/// the change is then not recorded, and reconciliation corrects the figures.
pub(crate) async fn stored_now<T: Backend>(call: Call<'_, T>, delta_only: bool) -> Option<Figures> {
    let Call {
        inner, bucket, key, ..
    } = call;
    let delta_key = keys::delta_key(key);
    let mut sum = Figures::default();
    let forms: &[(&str, bool)] = if delta_only {
        &[(&delta_key, true)]
    } else {
        &[(&delta_key, true), (key, false)]
    };
    for &(stored, delta) in forms {
        let head = inner.head(bucket, stored).await.ok()?;
        match head.status {
            StatusCode::NOT_FOUND => continue,
            s if s.is_success() => {}
            _ => return None,
        }
        let size = head
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())?;
        let original = if delta {
            ObjectMeta::parse(stored, |n| head.meta(n))
                .ok()
                .and_then(|m| m.file_size)
                .unwrap_or(size)
        } else {
            size
        };
        sum.add(&Figures::object(original, size, delta));
    }
    Some(sum)
}

/// Records in the journal that the call's key went from `before` (as [`stored_now`]
/// found it) to `after`; nothing when `before` could not be told.
pub(crate) async fn record<T: Backend>(call: Call<'_, T>, before: Option<Figures>, after: Figures) {
    let Some(before) = before else {
        return;
    };
    let mut change = after;
    change.add(&before.negated());
    let changes = Spaces::from([(keys::deltaspace(call.key).to_owned(), change)]);
    journal::record(call, &changes).await;
}

/// Records that reference `ref_key` of `stored` bytes was created (`created`) or removed.
pub(crate) async fn reference<T: Backend>(
    call: Call<'_, T>,
    ref_key: &str,
    stored: u64,
    created: bool,
) {
    let one = Figures::reference(stored);
    let change = if created { one } else { one.negated() };
    let changes = Spaces::from([(keys::deltaspace(ref_key).to_owned(), change)]);
    journal::record(call, &changes).await;
}
