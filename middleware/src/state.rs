//! The layer's state: what it is configured with, and what every clone of it shares in
//! memory — caches, counters, the renewal hints and where CPU-heavy work runs. Nothing here
//! is authoritative: all stored state lives in the backend.

pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod hints;
pub(crate) mod histogram;
pub(crate) mod metrics;
pub(crate) mod offload;
#[cfg(not(target_arch = "wasm32"))]
mod pool;
pub(crate) mod shared;
