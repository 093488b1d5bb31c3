//! The savings ledger (`docs/FORMAT.md`, "Savings ledger"): what each deltaspace holds —
//! objects, their original and stored bytes, references — kept in the backend itself, so
//! that any number of stateless layers over one store add up to the same figures and a
//! restart forgets nothing.
//!
//! - `figures`: the counts of one deltaspace and their JSON form.
//! - `journal`: every write and delete appends one small, immutable journal object with
//!   what it changed.
//! - `summary`: readers add the journal to the latest summary; now and then one of them
//!   folds the journal into a new summary (immutable, named by what it folded).
//! - `scan`: reconciliation — the figures counted afresh from a listing of the bucket.
//! - `change`: what a write or delete of one key changes, from the stored forms it
//!   replaces.

pub(crate) mod change;
pub(crate) mod figures;
pub(crate) mod journal;
pub(crate) mod scan;
pub(crate) mod summary;
