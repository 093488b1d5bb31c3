//! The real zlib (libz-sys' bundled copy, built from source) as an oracle for the port.
//!
//! Only `deflateInit2` takes a memory level and a strategy, so this calls zlib's C API
//! directly: the one place in the tests with `unsafe`.
#![allow(unsafe_code)]

use libz_sys as z;
use std::ffi::{c_int, c_uint, c_void};

unsafe extern "C" {
    fn calloc(n: usize, size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
}

unsafe extern "C" fn zalloc(_: *mut c_void, items: c_uint, size: c_uint) -> *mut c_void {
    // SAFETY: plain C allocation; zlib checks for null.
    unsafe { calloc(items as usize, size as usize) }
}

unsafe extern "C" fn zfree(_: *mut c_void, p: *mut c_void) {
    // SAFETY: `p` came from `zalloc` above.
    unsafe { free(p) }
}

/// Raw deflate of all of `input` in one `deflate(Z_FINISH)` call with an output buffer
/// of `deflateBound` bytes: `deflateInit2(level, Z_DEFLATED, -window_bits, mem_level,
/// strategy)`. `strategy` is zlib's number (0 default, 1 filtered, 2 Huffman only,
/// 3 RLE, 4 fixed).
pub(crate) fn deflate_raw(
    input: &[u8],
    level: i32,
    window_bits: i32,
    mem_level: i32,
    strategy: i32,
) -> Vec<u8> {
    let mut strm = z::z_stream {
        next_in: input.as_ptr().cast_mut(),
        avail_in: c_uint::try_from(input.len()).expect("input under 4 GiB"),
        total_in: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc,
        zfree,
        opaque: std::ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    };
    let size = c_int::try_from(std::mem::size_of::<z::z_stream>()).expect("small struct");
    // SAFETY: `strm` is initialised with valid allocators; zlib reads `input` (it never
    // writes through `next_in`) and writes at most `avail_out` bytes into `out`, which
    // outlives the calls; deflateEnd frees the state before `strm` goes away.
    unsafe {
        let rc = z::deflateInit2_(
            &mut strm,
            level as c_int,
            z::Z_DEFLATED,
            -(window_bits as c_int),
            mem_level as c_int,
            strategy as c_int,
            z::zlibVersion(),
            size,
        );
        assert_eq!(rc, z::Z_OK, "deflateInit2");
        let bound = z::deflateBound(&mut strm, input.len() as _) as usize;
        let mut out = vec![0u8; bound];
        strm.next_out = out.as_mut_ptr();
        strm.avail_out = c_uint::try_from(bound).expect("bound under 4 GiB");
        let rc = z::deflate(&mut strm, z::Z_FINISH);
        assert_eq!(
            rc,
            z::Z_STREAM_END,
            "deflate(Z_FINISH) with deflateBound output"
        );
        out.truncate(strm.total_out as usize);
        z::deflateEnd(&mut strm);
        out
    }
}
