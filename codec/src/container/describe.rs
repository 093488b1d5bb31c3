//! What a recipe says, in words and sizes: for reports, logs and benchmarks.

use super::error::Result;
use super::recipe::{Container, Recipe, Segment};

/// A recipe, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Description {
    /// The container it rebuilds.
    pub container: Container,
    /// Bytes the recipe holds verbatim (headers, trailers).
    pub literal_bytes: u64,
    /// Payload bytes copied as they are (zip headers, stored members, and members no
    /// method rebuilds).
    pub copied_bytes: u64,
    /// Every deflate stream, in order.
    pub streams: Vec<Stream>,
}

/// One deflate stream of a recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stream {
    /// Its payload length.
    pub plain_len: u64,
    /// Its compressed length, when recorded (always, since recipe version 2).
    pub deflate_len: Option<u64>,
    /// How it is rebuilt, e.g. `zlib-rs level 9` or `preflate, 180 B of corrections`.
    pub method: String,
}

/// Parses `recipe` (as strictly as [`repack`](super::repack) does) and summarises it.
pub fn describe(recipe: &[u8]) -> Result<Description> {
    let recipe = Recipe::parse(recipe)?;
    let mut out = Description {
        container: recipe.container,
        literal_bytes: 0,
        copied_bytes: 0,
        streams: Vec::new(),
    };
    for segment in &recipe.segments {
        match segment {
            Segment::Literal(bytes) => out.literal_bytes += bytes.len() as u64,
            Segment::Copy(n) => out.copied_bytes += n,
            Segment::Deflate {
                plain_len,
                deflate_len,
                method,
            } => out.streams.push(Stream {
                plain_len: *plain_len,
                deflate_len: *deflate_len,
                method: method.to_string(),
            }),
        }
    }
    Ok(out)
}
