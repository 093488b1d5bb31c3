//! The reference a large object is encoded against: one of its deltaspace's, identified
//! by a HEAD (its recorded SHA-256 and length) and read by ranges later.

use deltaglider_codec::Sha256Digest;
use http::{StatusCode, header};

use super::parts::{Found, Whole};
use crate::call::{Backend, Call, Stopped};
use crate::inner::pass_error;
use crate::refs::listing::list_references;
use crate::state::config::References;
use crate::stored::keys;

/// The deltaspace's reference for `whole`: `reference.bin` under [`References::First`],
/// else of the newest few the one closest in length (a sketch would need the whole
/// object). `None` when the deltaspace has none (or none records its SHA-256: such a
/// reference can only be checked by reading it whole).
pub(super) async fn reference<T: Backend>(
    call: Call<'_, T>,
    whole: &Whole,
) -> Result<Option<Found>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let space = keys::deltaspace(key);
    let listed = match shared.config.references {
        References::First => vec![keys::reference_key(space)],
        References::Best(n) => {
            let mut listed = list_references(call, space).await?;
            listed.truncate(usize::from(n));
            listed
        }
    };
    let mut best: Option<Found> = None;
    for ref_key in listed {
        let head = inner.head(bucket, &ref_key).await?;
        match head.status {
            StatusCode::NOT_FOUND => continue,
            s if !s.is_success() => return Err(pass_error(head)),
            _ => {}
        }
        let sha256 = head
            .meta("dg-file-sha256")
            .and_then(|v| v.parse::<Sha256Digest>().ok());
        let len = head
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // A reference stored as a delta of an older one cannot be read by ranges.
        let chained = head.meta("dg-ref-key").is_some();
        let (Some(sha256), Some(len), false) = (sha256, len, chained) else {
            continue;
        };
        let closer = best
            .as_ref()
            .is_none_or(|b| len.abs_diff(whole.size) < b.len.abs_diff(whole.size));
        if closer {
            best = Some(Found {
                key: ref_key,
                sha256,
                len,
            });
        }
    }
    Ok(best)
}
