//! Deflate encoders re-implemented bit for bit, so that a compressed stream can be
//! rebuilt from its decompressed payload by re-running the encoder that wrote it.

pub mod zlib;
