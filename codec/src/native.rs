//! The native backend: the xdelta3 C library, called through its two memory functions.
//!
//! `build.rs` compiles the vendored library (see `xdelta3/README.md` for why not the
//! `xdelta3` crate, whose Rust wrapper we could not have used anyway: it sizes the output
//! buffer as `2 × (input + source)`, so decoding a delta of a mostly unchanged file fails;
//! it reports failures as `None`; and it overflows `u32` arithmetic on large inputs). `xd3_encode_memory` and `xd3_decode_memory` take the output capacity explicitly,
//! which lets us size it exactly (decode) or use it as the encoder's early-exit cap (encode).
//! This module is the crate's only `unsafe` code.
#![allow(unsafe_code)]

use std::ffi::c_int;

use crate::error::{Error, Result};
use crate::options::{Backend, Encoded};

/// `usize_t` in xdelta3.h is `uint32_t` on every platform.
type UsizeT = u32;

unsafe extern "C" {
    fn xd3_encode_memory(
        input: *const u8,
        input_size: UsizeT,
        source: *const u8,
        source_size: UsizeT,
        output_buffer: *mut u8,
        output_size: *mut UsizeT,
        avail_output: UsizeT,
        flags: c_int,
    ) -> c_int;

    fn xd3_decode_memory(
        input: *const u8,
        input_size: UsizeT,
        source: *const u8,
        source_size: UsizeT,
        output_buffer: *mut u8,
        output_size: *mut UsizeT,
        avail_output: UsizeT,
        flags: c_int,
    ) -> c_int;
}

/// `XD3_ADLER32`: write (and on decode, verify) a per-window Adler-32.
const XD3_ADLER32: c_int = 1 << 10;
/// `XD3_COMPLEVEL_SHIFT`: where the 1–9 level goes in the flags.
const XD3_COMPLEVEL_SHIFT: c_int = 20;
/// xdelta3 reports a full output buffer as `ENOSPC`, which is 28 on every platform we build.
const ENOSPC: c_int = 28;
/// The largest input the library's 32-bit sizes can describe.
pub(crate) const LIMIT: u64 = UsizeT::MAX as u64;

fn fit(what: &'static str, len: usize) -> Result<UsizeT> {
    UsizeT::try_from(len).map_err(|_| Error::TooLarge {
        what,
        len: len as u64,
        limit: LIMIT,
        backend: Backend::Native,
    })
}

fn failure(code: c_int) -> Error {
    let message = match code {
        -17709 => "source too far back",
        -17710 => "internal error",
        -17711 => "invalid configuration",
        -17712 => "invalid input (corrupt delta or wrong reference)",
        -17713 => "secondary compression unavailable",
        -17714 => "unimplemented VCDIFF feature",
        c if c > 0 => "system error",
        _ => "unknown error",
    };
    Error::Backend {
        backend: Backend::Native,
        code,
        message,
    }
}

enum Direction {
    Encode,
    Decode,
}

/// Runs one memory call with an output buffer of exactly `capacity` bytes.
/// `Ok(None)` means the output did not fit.
fn process(
    direction: Direction,
    input: &[u8],
    source: &[u8],
    capacity: usize,
    flags: c_int,
) -> Result<Option<Vec<u8>>> {
    let input_size = fit("input", input.len())?;
    let source_size = fit("reference", source.len())?;
    let avail = fit("output", capacity)?;
    // xdelta3 rejects a null output pointer even when nothing is to be written.
    let mut out: Vec<u8> = Vec::with_capacity(capacity.max(1));
    let mut written: UsizeT = 0;
    // An empty source means "no source": xdelta3 would reject a zero-sized source block.
    let source_ptr = if source.is_empty() {
        std::ptr::null()
    } else {
        source.as_ptr()
    };
    let function = match direction {
        Direction::Encode => xd3_encode_memory,
        Direction::Decode => xd3_decode_memory,
    };
    // SAFETY: `input` and `source` are live slices of `input_size` and `source_size` bytes
    // (or null with size 0), only read. `out` owns at least `avail` writable bytes; the
    // library checks `written + pending <= avail` before every copy into it
    // (xd3_process_stream) and writes nothing else. `written` is a valid out-pointer.
    // The call keeps no pointer past its return.
    let code = unsafe {
        function(
            input.as_ptr(),
            input_size,
            source_ptr,
            source_size,
            out.as_mut_ptr(),
            &mut written,
            avail,
            flags,
        )
    };
    match code {
        0 => {
            let len = written as usize;
            if len > capacity {
                return Err(failure(-17710));
            }
            // SAFETY: the library initialised the first `written` bytes, and
            // `written <= capacity <= out.capacity()` was just checked.
            unsafe { out.set_len(len) };
            Ok(Some(out))
        }
        ENOSPC => Ok(None),
        code => Err(failure(code)),
    }
}

pub(crate) fn encode(
    reference: &[u8],
    target: &[u8],
    limit: Option<u64>,
    level: u8,
) -> Result<Encoded> {
    // Uncapped, a delta is never longer than the target plus its framing (an ADD of
    // everything); untouched capacity costs no memory.
    let capacity = match limit {
        Some(limit) => limit.min(LIMIT) as usize,
        None => target.len() + target.len() / 8 + (1 << 16),
    };
    let flags = XD3_ADLER32 | (c_int::from(level.clamp(1, 9)) << XD3_COMPLEVEL_SHIFT);
    match process(Direction::Encode, target, reference, capacity, flags)? {
        Some(delta) => Ok(Encoded::Delta(delta)),
        None => match limit {
            Some(limit) => Ok(Encoded::Exceeded { limit }),
            None => Err(failure(ENOSPC)),
        },
    }
}

/// Decodes a delta whose framing and instructions were checked to produce `expected_len`.
pub(crate) fn decode(reference: &[u8], delta: &[u8], expected_len: u64) -> Result<Vec<u8>> {
    let capacity = usize::try_from(expected_len)
        .ok()
        .filter(|&c| c as u64 <= LIMIT)
        .ok_or(Error::TooLarge {
            what: "target",
            len: expected_len,
            limit: LIMIT,
            backend: Backend::Native,
        })?;
    let out = process(Direction::Decode, delta, reference, capacity, XD3_ADLER32)?.ok_or(
        Error::LengthMismatch {
            expected: expected_len,
            actual: expected_len + 1,
        },
    )?;
    if out.len() as u64 != expected_len {
        return Err(Error::LengthMismatch {
            expected: expected_len,
            actual: out.len() as u64,
        });
    }
    Ok(out)
}
