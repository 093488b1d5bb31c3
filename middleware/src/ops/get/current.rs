//! Which stored form of a key a read serves: `<key>.delta`, when it is the current one.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::call::{Backend, Call, Stopped};
use crate::inner::{Fetched, Stop, pass_error};
use crate::stored::current::{Written, whole_wins};
use crate::stored::keys;

/// `<key>.delta` fetched with `method`, when it is the current form of `key`: it exists,
/// and `<key>` does not or was written earlier ([`crate::stored::current`]; both exist
/// only after a writer was interrupted between writing one form and removing the other).
/// `None`: read `<key>`. The HEAD of `<key>` runs beside the delta's request, costing no
/// latency. A backend error on either is an error, never "absent".
pub(super) async fn current_delta<T: Backend>(
    call: Call<'_, T>,
    method: Method,
) -> Result<Option<Fetched>, Stopped<T>> {
    let Call {
        shared,
        inner,
        bucket,
        key,
    } = call;
    let request = inner.request(method, bucket, &keys::delta_key(key), "");
    let (delta, whole) = futures_util::future::join(
        inner.fetch(request, Bytes::new(), shared.config.max_object_size),
        inner.head(bucket, key),
    )
    .await;
    let Some(delta) = found(delta?)? else {
        return Ok(None);
    };
    let Some(whole) = found(whole?)? else {
        return Ok(Some(delta));
    };
    if whole_wins(&Written::of(&delta.headers), &Written::of(&whole.headers)) {
        tracing::warn!(
            bucket,
            key,
            "both stored forms exist; the whole object is newer"
        );
        return Ok(None);
    }
    Ok(Some(delta))
}

/// What a read of a stored object found: the object, nothing (404), or the backend's own
/// error, passed on to the client unchanged.
pub(super) fn found<E, RB>(fetched: Fetched) -> Result<Option<Fetched>, Stop<E, RB>> {
    match fetched.status {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => Ok(Some(fetched)),
        _ => Err(pass_error(fetched)),
    }
}
