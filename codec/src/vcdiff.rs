//! A strict parser for VCDIFF framing (RFC 3284 §4) and a pre-check of window instructions.
//!
//! Both backends trust lengths they read from the delta. Everything they are given has been
//! through this module first, which bounds every length by what a well-formed delta can
//! contain, so hostile input costs at most one window of memory and never panics.

use std::ops::Range;

use oxidelta::vcdiff::WindowHeader;
use oxidelta::vcdiff::code_table::Instruction;
use oxidelta::vcdiff::decoder::InstructionIterator;

use crate::error::{Error, Result};

/// The four magic bytes that open every VCDIFF delta (version 0).
pub(crate) const MAGIC: [u8; 4] = [0xD6, 0xC3, 0xC4, 0x00];
/// The largest target window accepted, xdelta3's `XD3_HARDMAXWINSIZE`.
pub const MAX_WINDOW: u64 = 1 << 24;
/// The largest xdelta3 application header accepted (it holds file names).
const MAX_APP_HEADER: u64 = 1 << 16;

const VCD_SECONDARY: u8 = 0x01;
const VCD_CODETABLE: u8 = 0x02;
const VCD_APPHEADER: u8 = 0x04;
const VCD_SOURCE: u8 = 0x01;
const VCD_TARGET: u8 = 0x02;
const VCD_ADLER32: u8 = 0x04;
/// Delta-indicator bits: the window's data, instruction and address sections are
/// compressed by the secondary compressor the file header names (xdelta3's `-S`).
pub(crate) const SECTION_BITS: [u8; 3] = [0x01, 0x02, 0x04];

/// One window's framing, with section positions relative to the window's first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    win_ind: u8,
    /// Which sections are compressed by the secondary compressor (`SECTION_BITS`).
    pub(crate) del_ind: u8,
    enc_len: u64,
    /// Where the window's source segment starts in the reference.
    pub(crate) copy_offset: u64,
    /// Length of the source segment (0 when the window copies nothing from the reference).
    pub(crate) copy_len: u64,
    /// Bytes of target this window produces.
    pub(crate) target_len: u64,
    adler32: Option<u32>,
    data_len: u64,
    data: Range<usize>,
    inst: Range<usize>,
    addr: Range<usize>,
    /// Total bytes of the window in the delta.
    pub(crate) len: usize,
}

impl Window {
    /// Whether the window carries an Adler-32 of its target bytes.
    pub(crate) fn has_checksum(&self) -> bool {
        self.adler32.is_some()
    }

    /// The reference bytes this window reads.
    pub(crate) fn reference_range(&self) -> Range<u64> {
        self.copy_offset..self.copy_offset + self.copy_len
    }

    /// Its data, instruction and address sections as stored (compressed or not).
    pub(crate) fn stored_sections<'a>(&self, bytes: &'a [u8]) -> [&'a [u8]; 3] {
        let (data, inst, addr) = self.sections(bytes);
        [data, inst, addr]
    }

    /// The same window with `sections` (data, instruction, address) stored plainly: its
    /// framing (written by [`write_plain`](Self::write_plain) before the sections) and
    /// where the sections lie in `sections`' concatenation.
    pub(crate) fn with_plain_sections(&self, sections: [usize; 3]) -> Window {
        let [data, inst, addr] = sections;
        let mut lengths = Vec::with_capacity(32);
        put_varint(&mut lengths, self.target_len);
        lengths.push(0);
        for len in sections {
            put_varint(&mut lengths, len as u64);
        }
        let checksum = if self.adler32.is_some() { 4 } else { 0 };
        Window {
            win_ind: self.win_ind,
            del_ind: 0,
            enc_len: (lengths.len() + checksum + data + inst + addr) as u64,
            copy_offset: self.copy_offset,
            copy_len: self.copy_len,
            target_len: self.target_len,
            adler32: self.adler32,
            data_len: data as u64,
            data: 0..data,
            inst: data..data + inst,
            addr: data + inst..data + inst + addr,
            len: data + inst + addr,
        }
    }

    /// Appends this window's framing (RFC 3284 §4.2, no secondary compression) to `out`;
    /// its sections follow.
    pub(crate) fn write_plain(&self, out: &mut Vec<u8>) {
        out.push(self.win_ind);
        if self.win_ind & VCD_SOURCE != 0 {
            put_varint(out, self.copy_len);
            put_varint(out, self.copy_offset);
        }
        put_varint(out, self.enc_len);
        put_varint(out, self.target_len);
        out.push(0);
        put_varint(out, self.data_len);
        put_varint(out, self.inst.len() as u64);
        put_varint(out, self.addr.len() as u64);
        if let Some(adler32) = self.adler32 {
            out.extend_from_slice(&adler32.to_be_bytes());
        }
    }

    /// oxidelta's view of the same header.
    pub(crate) fn header(&self) -> WindowHeader {
        WindowHeader {
            win_ind: self.win_ind,
            copy_window_len: self.copy_len,
            copy_window_offset: self.copy_offset,
            enc_len: self.enc_len,
            target_window_len: self.target_len,
            del_ind: 0,
            data_len: self.data_len,
            inst_len: self.inst.len() as u64,
            addr_len: self.addr.len() as u64,
            adler32: self.adler32,
        }
    }

    /// The data, instruction and address sections of `bytes`, the window's bytes.
    pub(crate) fn sections<'a>(&self, bytes: &'a [u8]) -> (&'a [u8], &'a [u8], &'a [u8]) {
        (
            &bytes[self.data.clone()],
            &bytes[self.inst.clone()],
            &bytes[self.addr.clone()],
        )
    }

    /// Walks the instructions without producing output and checks that they stay inside
    /// the window: sizes add up to exactly the target length, data and addresses are
    /// present, and no copy straddles the reference/target boundary.
    pub(crate) fn check_instructions(&self, bytes: &[u8], index: u64) -> Result<()> {
        let corrupt = |detail: String| Error::Corrupt {
            window: index,
            detail,
        };
        let (_, inst, addr) = self.sections(bytes);
        let mut produced: u64 = 0;
        let mut data_used: u64 = 0;
        for instruction in InstructionIterator::new(inst, addr, self.copy_len) {
            let instruction = instruction.map_err(|e| corrupt(e.to_string()))?;
            let len = match instruction {
                Instruction::Add { len } => {
                    data_used += u64::from(len);
                    len
                }
                Instruction::Run { len } => {
                    data_used += 1;
                    len
                }
                Instruction::Copy { len, addr, .. } => {
                    if addr < self.copy_len && addr + u64::from(len) > self.copy_len {
                        return Err(corrupt(
                            "copy straddles the reference/target boundary".into(),
                        ));
                    }
                    len
                }
            };
            produced += u64::from(len);
            if produced > self.target_len {
                return Err(corrupt(format!(
                    "instructions produce more than the window's {} bytes",
                    self.target_len
                )));
            }
            if data_used > self.data_len {
                return Err(corrupt("instructions read past the data section".into()));
            }
        }
        if data_used != self.data_len {
            // xdelta3 refuses unused data too; both backends accept the same deltas.
            return Err(corrupt(
                "unused bytes at the end of the data section".into(),
            ));
        }
        if produced != self.target_len {
            return Err(corrupt(format!(
                "instructions produce {produced} bytes, the window declares {}",
                self.target_len
            )));
        }
        Ok(())
    }
}

/// Reads bytes and varints from a buffer that may end early.
///
/// `Ok(None)` from any method means "the buffer ends here": the caller needs more input.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8], base: u64) -> Self {
        Self { buf, pos: 0, base }
    }

    fn malformed(&self, reason: &'static str) -> Error {
        Error::Malformed {
            offset: self.base + self.pos as u64,
            reason,
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// A big-endian base-128 integer of at most 64 bits.
    fn varint(&mut self) -> Result<Option<u64>> {
        let mut value: u64 = 0;
        for _ in 0..10 {
            let Some(b) = self.byte() else {
                return Ok(None);
            };
            if value >> 57 != 0 {
                self.pos -= 1;
                return Err(self.malformed("integer overflows 64 bits"));
            }
            value = (value << 7) | u64::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(Some(value));
            }
        }
        Err(self.malformed("integer longer than 10 bytes"))
    }

    /// Skips `n` bytes; false when the buffer is too short.
    fn skip(&mut self, n: u64) -> bool {
        match usize::try_from(n) {
            Ok(n) if n <= self.buf.len() - self.pos => {
                self.pos += n;
                true
            }
            _ => false,
        }
    }
}

macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

/// A parsed file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileHeader {
    /// Its length in bytes.
    pub(crate) len: usize,
    /// Whether it names a secondary compressor.
    pub(crate) secondary: bool,
    /// The secondary compressor's ID, when it names one (xdelta3: 1 DJW, 2 LZMA, 16 FGK).
    pub(crate) compressor: Option<u8>,
}

/// Parses the file header at the start of `buf`, or `None` when `buf` ends inside it.
pub(crate) fn file_header(buf: &[u8]) -> Result<Option<FileHeader>> {
    let mut c = Cursor::new(buf, 0);
    for expected in MAGIC {
        if need!(c.byte()) != expected {
            c.pos -= 1;
            return Err(c.malformed("not a VCDIFF delta (bad magic bytes)"));
        }
    }
    let indicator = need!(c.byte());
    if indicator & !(VCD_SECONDARY | VCD_CODETABLE | VCD_APPHEADER) != 0 {
        c.pos -= 1;
        return Err(c.malformed("reserved bits set in the header indicator"));
    }
    let compressor = if indicator & VCD_SECONDARY != 0 {
        // xdelta3 announces its compressor even when no window ends up using it (as for
        // the near-identical files the Python CLI writes); each window says whether it does.
        Some(need!(c.byte()))
    } else {
        None
    };
    if indicator & VCD_CODETABLE != 0 {
        return Err(Error::Unsupported {
            feature: "application-defined code table",
        });
    }
    if indicator & VCD_APPHEADER != 0 {
        let len = need!(c.varint()?);
        if len > MAX_APP_HEADER {
            return Err(c.malformed("application header longer than 64 KiB"));
        }
        if !c.skip(len) {
            return Ok(None);
        }
    }
    Ok(Some(FileHeader {
        len: c.pos,
        secondary: compressor.is_some(),
        compressor,
    }))
}

/// Parses the window at the start of `buf` (which sits at offset `base` of the delta).
/// Returns `None` when `buf` does not yet hold the whole window.
pub(crate) fn window(buf: &[u8], base: u64, reference_len: u64) -> Result<Option<Window>> {
    Ok(window_frame(buf, base, reference_len)?.filter(|w| w.len <= buf.len()))
}

/// Parses the header of the window at the start of `buf` (at offset `base` of the delta):
/// its framing and where its sections lie, which may be past the end of `buf`. Returns
/// `None` when `buf` ends inside the header. Windows using secondary compression are
/// refused.
pub(crate) fn window_frame(buf: &[u8], base: u64, reference_len: u64) -> Result<Option<Window>> {
    frame(buf, base, reference_len, false)
}

/// [`window_frame`] for a delta whose file header names a secondary compressor.
pub(crate) fn compressed_frame(
    buf: &[u8],
    base: u64,
    reference_len: u64,
) -> Result<Option<Window>> {
    frame(buf, base, reference_len, true)
}

/// [`window`] for a delta whose file header names a secondary compressor: its sections may
/// be compressed (`Window::del_ind`), and are then bounded only by the window's length.
pub(crate) fn compressed_window(
    buf: &[u8],
    base: u64,
    reference_len: u64,
) -> Result<Option<Window>> {
    Ok(frame(buf, base, reference_len, true)?.filter(|w| w.len <= buf.len()))
}

// Long: RFC 3284's window header, field after field, each bounded as it is read; split,
// the checks would be further from the fields they bound.
fn frame(buf: &[u8], base: u64, reference_len: u64, compressed: bool) -> Result<Option<Window>> {
    let mut c = Cursor::new(buf, base);
    let win_ind = need!(c.byte());
    if win_ind & !(VCD_SOURCE | VCD_TARGET | VCD_ADLER32) != 0 {
        c.pos -= 1;
        return Err(c.malformed("reserved bits set in the window indicator"));
    }
    if win_ind & VCD_TARGET != 0 {
        return Err(Error::Unsupported {
            feature: "VCD_TARGET windows (copies from earlier target)",
        });
    }
    let (copy_len, copy_offset) = if win_ind & VCD_SOURCE != 0 {
        (need!(c.varint()?), need!(c.varint()?))
    } else {
        (0, 0)
    };
    match copy_offset.checked_add(copy_len) {
        Some(end) if end <= reference_len => {}
        Some(end) => {
            return Err(Error::ReferenceTooShort {
                needed: end,
                available: reference_len,
            });
        }
        None => return Err(c.malformed("source segment overflows 64 bits")),
    }
    let enc_len = need!(c.varint()?);
    let enc_start = c.pos;
    let target_len = need!(c.varint()?);
    if target_len > MAX_WINDOW {
        return Err(c.malformed("target window larger than 16 MiB"));
    }
    // No well-formed encoder spends more than about one byte of instructions and addresses
    // per byte of target on top of the literal data; the bound keeps hostile lengths cheap.
    if enc_len > 2 * target_len + 1024 {
        return Err(c.malformed("window encoding implausibly large for its target"));
    }
    let delta_indicator = need!(c.byte());
    if delta_indicator & !0x07 != 0 {
        return Err(c.malformed("reserved bits set in the delta indicator"));
    }
    if delta_indicator != 0 && !compressed {
        return Err(Error::Unsupported {
            feature: "secondary compression (xdelta3 -S lzma/djw/fgk); encode with -S none",
        });
    }
    let data_len = need!(c.varint()?);
    let inst_len = need!(c.varint()?);
    let addr_len = need!(c.varint()?);
    if data_len > target_len && delta_indicator & SECTION_BITS[0] == 0 {
        return Err(c.malformed("data section longer than the target window"));
    }
    let adler32 = if win_ind & VCD_ADLER32 != 0 {
        let mut b = [0u8; 4];
        for slot in &mut b {
            *slot = need!(c.byte());
        }
        Some(u32::from_be_bytes(b))
    } else {
        None
    };
    let header_len = (c.pos - enc_start) as u64;
    let sections = data_len
        .checked_add(inst_len)
        .and_then(|n| n.checked_add(addr_len));
    if sections.and_then(|n| n.checked_add(header_len)) != Some(enc_len) {
        return Err(c.malformed("window length fields disagree"));
    }
    let data_start = c.pos;
    // All three fit in a usize: their sum is at most `enc_len`, bounded above by twice
    // the 16 MiB window plus 1 KiB.
    let inst_start = data_start + data_len as usize;
    let addr_start = inst_start + inst_len as usize;
    let end = addr_start + addr_len as usize;
    Ok(Some(Window {
        win_ind,
        del_ind: delta_indicator,
        enc_len,
        copy_offset,
        copy_len,
        target_len,
        adler32,
        data_len,
        data: data_start..inst_start,
        inst: inst_start..addr_start,
        addr: addr_start..end,
        len: end,
    }))
}

/// Iterates over the windows of a complete in-memory delta, after its file header.
pub(crate) struct Windows<'a> {
    /// The delta's file header.
    #[cfg_attr(
        not(all(feature = "native", not(target_arch = "wasm32"))),
        allow(dead_code)
    )]
    pub(crate) header: FileHeader,
    delta: &'a [u8],
    pos: usize,
    reference_len: u64,
}

impl<'a> Windows<'a> {
    /// Checks the file header of `delta`.
    pub(crate) fn new(delta: &'a [u8], reference_len: u64) -> Result<Self> {
        let header = file_header(delta)?.ok_or(Error::Truncated {
            len: delta.len() as u64,
        })?;
        Ok(Self {
            header,
            delta,
            pos: header.len,
            reference_len,
        })
    }

    /// Sum of the target lengths all windows declare, checking every window's framing.
    pub(crate) fn declared_len(self) -> Result<u64> {
        self.map(|w| w.map(|(w, _)| w.target_len)).sum()
    }
}

impl<'a> Iterator for Windows<'a> {
    type Item = Result<(Window, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos == self.delta.len() {
            return None;
        }
        let rest = &self.delta[self.pos..];
        Some(match window(rest, self.pos as u64, self.reference_len) {
            Ok(Some(w)) => {
                let bytes = &rest[..w.len];
                self.pos += w.len;
                Ok((w, bytes))
            }
            Ok(None) => {
                self.pos = self.delta.len();
                Err(Error::Truncated {
                    len: self.delta.len() as u64,
                })
            }
            Err(e) => {
                self.pos = self.delta.len();
                Err(e)
            }
        })
    }
}

/// The VCDIFF integer at the start of `buf` and how many bytes it takes; `None` when `buf`
/// ends inside it or it is malformed.
pub(crate) fn leading_varint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut c = Cursor::new(buf, 0);
    let value = c.varint().ok()??;
    Some((value, c.pos))
}

/// Appends `v` as a VCDIFF integer (big-endian base 128).
pub(crate) fn put_varint(out: &mut Vec<u8>, v: u64) {
    let mut groups = [0u8; 10];
    let mut n = 0;
    let mut rest = v;
    loop {
        groups[n] = (rest & 0x7f) as u8;
        n += 1;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_needs_magic() {
        assert!(matches!(
            file_header(b"PK\x03\x04\x00"),
            Err(Error::Malformed { offset: 0, .. })
        ));
        assert_eq!(file_header(&MAGIC).ok(), Some(None));
        let plain = file_header(&[0xD6, 0xC3, 0xC4, 0, 0]).ok().flatten();
        assert_eq!(plain.map(|h| h.len), Some(5));
    }

    #[test]
    fn header_notes_secondary_and_skips_app_header() {
        let lzma = file_header(&[0xD6, 0xC3, 0xC4, 0, 1, 2]).ok().flatten();
        assert_eq!(lzma.map(|h| (h.len, h.secondary)), Some((6, true)));
        let with_app = [0xD6, 0xC3, 0xC4, 0, 4, 3, b'a', b'b', b'c'];
        let h = file_header(&with_app).ok().flatten();
        assert_eq!(h.map(|h| (h.len, h.secondary)), Some((9, false)));
        assert_eq!(file_header(&with_app[..8]).ok(), Some(None));
    }

    #[test]
    fn window_rejects_oversized_lengths_without_reading_them() {
        // VCD_SOURCE window over a 10-byte reference claiming 1 TB of target.
        let mut w = vec![VCD_SOURCE, 4, 0];
        w.extend([0x9F, 0xFF, 0xFF, 0xFF, 0x7F]); // enc_len, huge
        w.extend([0x9F, 0xFF, 0xFF, 0xFF, 0x7F]); // target_len, huge
        assert!(matches!(window(&w, 5, 10), Err(Error::Malformed { .. })));
        // Source segment beyond the reference.
        let w = [VCD_SOURCE, 20, 0, 5, 1, 0, 0, 0, 0];
        assert!(matches!(
            window(&w, 5, 10),
            Err(Error::ReferenceTooShort {
                needed: 20,
                available: 10
            })
        ));
    }

    #[test]
    fn varint_overflow_is_an_error() {
        let bytes = [0xFFu8; 12];
        let mut c = Cursor::new(&bytes, 0);
        assert!(c.varint().is_err());
        let mut c = Cursor::new(&[0x81, 0x00], 0);
        assert_eq!(c.varint().ok(), Some(Some(128)));
        let mut c = Cursor::new(&[0x81], 0);
        assert_eq!(c.varint().ok(), Some(None));
    }
}
