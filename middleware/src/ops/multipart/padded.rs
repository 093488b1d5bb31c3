//! The answer to a CompleteMultipartUpload whose object takes the large-object path:
//! encoding it takes longer than clients wait on a silent connection, so — as S3 itself
//! answers a long completion — the 200 goes out at once and whitespace follows, one space
//! per tick of progress, then the backend's completion document. Its length is fixed up
//! front: the spaces not sent on the way are sent before the document. The document goes
//! without its XML declaration, which may not follow whitespace; the root element may.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::{self, Either as Which};
use futures_util::{StreamExt, stream};
use http::{HeaderValue, Response, header, response};

use crate::body::{BodyError, Either, ResponseBody, Streamed};
use crate::call::{Backend, Call};
use crate::ops::put::large::{self, Progress, Whole};

/// Ticks of progress expected per byte of the object: one per 4 MiB (chunks are 8 MiB at
/// most, the seeding hash reads 16 MiB pieces); more are not shown.
const BYTES_PER_SPACE: u64 = 4 << 20;

/// The response: `parts` of the backend's answer, whitespace while `whole` is stored by
/// the large-object path, then `document`.
pub(super) fn reply<T: Backend>(
    call: Call<'_, T>,
    mut parts: response::Parts,
    document: &Bytes,
    whole: Whole,
) -> Response<ResponseBody<T::Reply>> {
    let document = without_declaration(document);
    let budget = usize::try_from(whole.size / BYTES_PER_SPACE + 64).unwrap_or(usize::MAX);
    let len = (budget + document.len()) as u64;
    let (sender, ticks) = futures_channel::mpsc::unbounded();
    let (shared, inner) = (Arc::clone(call.shared), call.inner.clone());
    let (bucket, key) = (call.bucket.to_owned(), call.key.to_owned());
    let work = Box::pin(async move {
        let call = Call::<T>::new(&shared, &inner, &bucket, &key);
        // Failures are logged by the path itself; the object is complete either way.
        let _ = large::store(call, &whole, &Progress::to(sender)).await;
    });
    let state = (Some(work), ticks, 0usize);
    let pieces = stream::unfold(state, move |(work, mut ticks, mut sent)| {
        let document = document.clone();
        async move {
            let mut work = work?;
            loop {
                match future::select(work.as_mut(), ticks.next()).await {
                    Which::Left(((), _)) => {
                        let mut rest = vec![b' '; budget - sent];
                        rest.extend_from_slice(&document);
                        let piece = Ok::<_, BodyError>(Bytes::from(rest));
                        return Some((piece, (None, ticks, budget)));
                    }
                    Which::Right((Some(()), _)) if sent < budget => {
                        sent += 1;
                        let piece = Ok(Bytes::from_static(b" "));
                        return Some((piece, (Some(work), ticks, sent)));
                    }
                    Which::Right((Some(()), _)) => {}
                    Which::Right((None, _)) => {
                        // Nothing more will tick: wait for the work alone.
                        work.as_mut().await;
                        let mut rest = vec![b' '; budget - sent];
                        rest.extend_from_slice(&document);
                        return Some((Ok(Bytes::from(rest)), (None, ticks, budget)));
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
