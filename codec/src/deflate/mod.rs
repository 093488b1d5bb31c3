//! Deflate streams (RFC 1951) rebuilt byte for byte from their decompressed bytes.
//!
//! A compressed container hides similarity; its decompressed payload does not. To store the
//! payload and still return the exact original bytes, each deflate stream in the container
//! is described by a *method* that rebuilds it from its payload:
//!
//! - an identified encoder with its parameters — the implementation that wrote the
//!   stream, run again at its own speed — plus, when it came close but not exact, a small
//!   *fix-up* (a VCDIFF delta from its output to the original stream);
//! - otherwise `preflate-rs`'s corrections, which describe any deflate stream but rebuild
//!   slowly.
//!
//! `identify` chooses the method; it tries candidates on the stream's first blocks, so a
//! wrong guess costs about one block of work.
//!
//! [`zlib`] is public: a byte-exact port of zlib's deflate (madler's and Chromium's), useful
//! on its own wherever a zlib stream must be reproduced without C.

mod encoder;
mod identify;
mod method;
mod preflate;
pub mod zlib;

pub(crate) use encoder::{ENCODED_LEN, Encoder};
pub(crate) use identify::{Hint, Policy, identify, identify_bzip2, identify_xz};
pub(crate) use method::{Chunk, Method};
pub(crate) use preflate::ENGINES as PREFLATE_ENGINES;
