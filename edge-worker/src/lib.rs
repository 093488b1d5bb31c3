//! DeltaGlider at the edge: a Cloudflare Worker in front of an R2 bucket.
//!
//! **Not built yet.** This crate only proves that the middleware and its pure-Rust codec
//! compile for `wasm32-unknown-unknown` (CI checks that). The Worker adapter
//! (`#[event(fetch)]`, an `R2Service` over the bucket binding) is planned work; until it
//! lands, `wrangler.toml` at the repository root has nothing to deploy.
#![forbid(unsafe_code)]

pub use deltaglider::keys;
