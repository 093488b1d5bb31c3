//! The pure-Rust backend: oxidelta's matcher and VCDIFF coder, without secondary compression.

use std::io::{self, Write};

use oxidelta::vcdiff::decoder::{self, DecodeError, SourceProvider, WindowSections};

use crate::error::{Error, Result};
use crate::integrity::Sha256;
use crate::options::{Backend, Encoded};
use crate::vcdiff::{self, Window};

mod encoder;

pub(crate) use encoder::PureEncoder;

/// A `Vec` sink that refuses to grow past `limit`, so a poor delta stops the encoder at the
/// first window that crosses it.
#[derive(Debug, Default)]
pub(crate) struct CappedSink {
    pub(crate) buf: Vec<u8>,
    limit: Option<u64>,
    pub(crate) written: u64,
    pub(crate) exceeded: bool,
}

impl CappedSink {
    pub(crate) fn new(limit: Option<u64>, already_written: u64) -> Self {
        Self {
            buf: Vec::new(),
            limit,
            written: already_written,
            exceeded: false,
        }
    }
}

impl Write for CappedSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.written += bytes.len() as u64;
        if self.limit.is_some_and(|limit| self.written > limit) {
            self.exceeded = true;
            return Err(io::Error::other("delta exceeds the configured cap"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Maps an oxidelta encoder failure; a sink over the cap is not a failure.
pub(crate) fn encode_failure(sink: &CappedSink, limit: Option<u64>) -> Result<Encoded> {
    match limit {
        Some(limit) if sink.exceeded => Ok(Encoded::Exceeded { limit }),
        _ => Err(Error::Backend {
            backend: Backend::Pure,
            code: -1,
            message: "encoder failed",
        }),
    }
}

pub(crate) fn encode(
    reference: &[u8],
    target: &[u8],
    limit: Option<u64>,
    level: u8,
) -> Result<Encoded> {
    let mut sink = CappedSink::new(limit, 0);
    let mut encoder = PureEncoder::new(reference, Some(target.len() as u64), level);
    let done = encoder
        .push(target, &mut sink)
        .and_then(|()| encoder.finish(&mut sink));
    match done {
        Ok(()) => Ok(Encoded::Delta(sink.buf)),
        Err(_) => encode_failure(&sink, limit),
    }
}

/// Decodes a whole delta whose framing declares `expected_len` bytes, feeding each window
/// to `hasher` while it is still in cache.
pub(crate) fn decode(
    reference: &[u8],
    delta: &[u8],
    expected_len: u64,
    mut hasher: Option<&mut Sha256>,
) -> Result<Vec<u8>> {
    let capacity = usize::try_from(expected_len).map_err(|_| Error::TooLarge {
        what: "target",
        len: expected_len,
        limit: usize::MAX as u64,
        backend: Backend::Pure,
    })?;
    let mut out = Vec::with_capacity(capacity);
    let mut source = reference;
    for (index, window) in vcdiff::Windows::new(delta, reference.len() as u64)?.enumerate() {
        let (window, bytes) = window?;
        let start = out.len();
        decode_window(&window, bytes, &mut source, &mut out, index as u64)?;
        if let Some(hasher) = hasher.as_deref_mut() {
            hasher.update(&out[start..]);
        }
    }
    Ok(out)
}

/// Decodes one window, appending its target bytes to `out`.
pub(crate) fn decode_window<S: SourceProvider>(
    window: &Window,
    bytes: &[u8],
    source: &mut S,
    out: &mut Vec<u8>,
    index: u64,
) -> Result<()> {
    window.check_instructions(bytes, index)?;
    let (data, inst, addr) = window.sections(bytes);
    let mut copy_buf = Vec::new();
    decoder::decode_window_into(
        &window.header(),
        WindowSections { data, inst, addr },
        source,
        true,
        &mut copy_buf,
        out,
    )
    .map_err(|e| match e {
        DecodeError::ChecksumMismatch { expected, actual } => Error::WindowChecksum {
            window: index,
            expected,
            actual,
        },
        other => Error::Corrupt {
            window: index,
            detail: other.to_string(),
        },
    })
}

/// A window's source segment held in memory, addressed by reference offsets.
pub(crate) struct Segment<'a> {
    pub(crate) offset: u64,
    pub(crate) bytes: &'a [u8],
}

impl Segment<'_> {
    fn range(&self, offset: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(offset.checked_sub(self.offset)?).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.bytes.len()).then_some(start..end)
    }
}

impl SourceProvider for Segment<'_> {
    fn read_source(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DecodeError> {
        let range = self
            .range(offset, buf.len())
            .ok_or_else(|| DecodeError::InvalidInput("copy outside the source segment".into()))?;
        buf.copy_from_slice(&self.bytes[range]);
        Ok(buf.len())
    }

    fn source_len(&self) -> Option<u64> {
        Some(self.offset + self.bytes.len() as u64)
    }

    fn source_slice(&self, offset: u64, len: usize) -> Option<&[u8]> {
        self.range(offset, len).map(|r| &self.bytes[r])
    }
}
