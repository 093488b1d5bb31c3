//! The reference lifecycle of a deltaspace: loaded (cache, then backend, checked by
//! SHA-256), listed, created (conditionally, never overwritten), chosen for a PUT (most
//! similar), renewed (a cost model) — stored whole, or as a delta of an older reference
//! (`chain`) — and removed once nothing, neither a delta nor a reference chained onto it,
//! names it.
//!
//! Arrows run one way: `renew` → `chain`, `choose` → `create` → `load`, `listing`;
//! `unused` → `create`; nothing here calls an operation.

pub(crate) mod chain;
pub(crate) mod choose;
pub(crate) mod create;
pub(crate) mod listing;
pub(crate) mod load;
pub(crate) mod renew;
pub(crate) mod unused;
