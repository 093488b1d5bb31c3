//! Range GETs of a delta. Of a plain delta only the windows covering the range are
//! decoded, and only the reference bytes they copy from are read — from the cache, or by
//! ranged GETs — so a small range of a large object costs a small read, even with a cold
//! cache.

use std::ops::Range;

use bytes::Bytes;

use super::delta::{cannot_reconstruct, original_len, reference_of};
use super::{memory, source};
use crate::call::{Backend, Call, Stopped};
use crate::stored::meta::ObjectMeta;

/// The bytes of `range` of the original. A plain delta whose windows carry checksums is
/// read window by window ([`windows`]); a gzip archive (its recompression needs the whole
/// payload) or a delta without window checksums is rebuilt whole, verified, then sliced.
pub(super) async fn read<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: &Bytes,
    range: Range<u64>,
) -> Result<Bytes, Stopped<T>> {
    if meta.payload_delta.is_none()
        && let Some(part) = windows(call, meta, delta, range.clone()).await?
    {
        return Ok(part);
    }
    memory::decode(call, meta, delta, Some(range)).await
}

/// The bytes of `range` of the original, each covering window checked by its Adler-32;
/// `None` when the delta's windows carry no checksums.
async fn windows<T: Backend>(
    call: Call<'_, T>,
    meta: &ObjectMeta,
    delta: &Bytes,
    range: Range<u64>,
) -> Result<Option<Bytes>, Stopped<T>> {
    let Call { key, .. } = call;
    let ref_info = reference_of(key, meta)?;
    let failed = |e: &dyn std::fmt::Display| cannot_reconstruct(key, e);
    let expected_len = original_len(key, meta, delta)?;
    let mut reference = source::open(call, &ref_info.key, &ref_info.sha256).await?;
    let reads =
        match deltaglider_codec::range_reads(reference.len(), delta, expected_len, range.clone()) {
            Ok(reads) => reads,
            Err(deltaglider_codec::Error::Unsupported { .. }) => return Ok(None),
            Err(e) => return Err(failed(&e).into()),
        };
    let mut parts = Parts {
        len: reference.len(),
        parts: Vec::with_capacity(reads.len()),
    };
    for read in reads {
        let bytes = reference.read(read.clone()).await.map_err(|e| failed(&e))?;
        parts.parts.push((read.start, bytes));
    }
    deltaglider_codec::decode_range_from(&mut parts, delta, expected_len, range)
        .map(|part| Some(Bytes::from(part)))
        .map_err(|e| failed(&e).into())
}

/// The reference ranges a range decode reads, fetched beforehand.
struct Parts {
    len: u64,
    parts: Vec<(u64, Bytes)>,
}

impl deltaglider_codec::ReferenceReader for Parts {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let end = offset.saturating_add(buf.len() as u64);
        let (start, bytes) = self
            .parts
            .iter()
            .find(|(start, bytes)| *start <= offset && end <= start + bytes.len() as u64)
            .ok_or_else(|| std::io::Error::other("a reference range that was not fetched"))?;
        let from = (offset - start) as usize;
        buf.copy_from_slice(&bytes[from..from + buf.len()]);
        Ok(())
    }
}
