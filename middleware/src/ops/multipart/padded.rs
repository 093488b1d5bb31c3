//! The answer to a CompleteMultipartUpload whose object takes the large-object path:
//! encoding it takes longer than clients wait on a silent connection (aws-cli: 60 s), so —
//! as S3 itself answers a long completion — the 200 goes out at once and a space follows
//! every 5 s while the work goes on, then the backend's completion document. Its
//! length is fixed up front: the spaces not sent on the way are sent before the document.
//! The document goes without its XML declaration, which may not follow whitespace; the
//! root element may.
//!
//! The heartbeat is a thread of its own (the layer has no timer of its own: it runs under
//! any executor), which ends when the response does. On wasm32, where there are no
//! threads, the spaces all come at the end (the Worker stores large objects whole).

use std::sync::Arc;
#[cfg(not(target_arch = "wasm32"))]
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{self, Either as Which};
use futures_util::{StreamExt, stream};
use http::{HeaderValue, Response, header, response};

use crate::body::{BodyError, Either, ResponseBody, Streamed};
use crate::call::{Backend, Call};
use crate::ops::put::large::{self, Whole};

/// How often a space is sent while the object is encoded.
#[cfg(not(target_arch = "wasm32"))]
const HEARTBEAT: Duration = Duration::from_secs(5);
/// The most spaces sent: about 11 hours of heartbeats.
const BUDGET: usize = 8192;

/// The response: `parts` of the backend's answer, a space every 5 s while
/// `whole` is stored by the large-object path, then `document`.
pub(super) fn reply<T: Backend>(
    call: Call<'_, T>,
    mut parts: response::Parts,
    document: &Bytes,
    whole: Whole,
) -> Response<ResponseBody<T::Reply>> {
    let document = without_declaration(document);
    let len = (BUDGET + document.len()) as u64;
    let (sender, ticks) = futures_channel::mpsc::unbounded();
    heartbeat(sender);
    let (shared, inner) = (Arc::clone(call.shared), call.inner.clone());
    let (bucket, key) = (call.bucket.to_owned(), call.key.to_owned());
    let work = Box::pin(async move {
        let call = Call::<T>::new(&shared, &inner, &bucket, &key);
        // Failures are logged by the path itself; the object is complete either way.
        // The whole form is already the new object: only an older delta was counted.
        let before = crate::ledger::change::stored_now(call, true).await;
        let _ = large::store(call, &whole, before).await;
    });
    let state = (Some(work), ticks, 0usize);
    let pieces = stream::unfold(state, move |(work, mut ticks, mut sent)| {
        let document = document.clone();
        async move {
            let mut work = work?;
            let last = |sent: usize| {
                let mut rest = vec![b' '; BUDGET - sent];
                rest.extend_from_slice(&document);
                Ok::<_, BodyError>(Bytes::from(rest))
            };
            loop {
                match future::select(work.as_mut(), ticks.next()).await {
                    Which::Left(((), _)) => return Some((last(sent), (None, ticks, BUDGET))),
                    Which::Right((Some(()), _)) if sent < BUDGET => {
                        sent += 1;
                        let piece = Ok(Bytes::from_static(b" "));
                        return Some((piece, (Some(work), ticks, sent)));
                    }
                    Which::Right((Some(()), _)) => {}
                    Which::Right((None, _)) => {
                        // No heartbeat (no threads here): wait for the work alone.
                        work.as_mut().await;
                        return Some((last(sent), (None, ticks, BUDGET)));
                    }
                }
            }
        }
    });
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    parts.headers.remove(header::TRANSFER_ENCODING);
    let body = Streamed::new(Box::pin(pieces), len);
    Response::from_parts(parts, Either::streamed(body))
}

/// Ticks `sender` every 5 s until its receiver is gone (the response ended).
fn heartbeat(sender: futures_channel::mpsc::UnboundedSender<()>) {
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(HEARTBEAT);
            if sender.unbounded_send(()).is_err() {
                break;
            }
        }
    });
    #[cfg(target_arch = "wasm32")]
    drop(sender);
}

/// `document` without a leading `<?xml …?>` declaration.
fn without_declaration(document: &Bytes) -> Bytes {
    let text = document.as_ref();
    if text.starts_with(b"<?xml")
        && let Some(end) = text.windows(2).position(|w| w == b"?>")
    {
        let rest = &text[end + 2..];
        let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        return document.slice(end + 2 + skip..);
    }
    document.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declaration_goes_and_the_document_stays() {
        let doc = Bytes::from_static(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult/>",
        );
        assert_eq!(
            &without_declaration(&doc)[..],
            b"<CompleteMultipartUploadResult/>"
        );
        let bare = Bytes::from_static(b"<CompleteMultipartUploadResult/>");
        assert_eq!(without_declaration(&bare), bare);
    }
}
