//! Objects a command could not handle, and why: as report lines and as JSON.

use serde_json::{Value, json};

/// A key and the reason it failed.
pub(crate) type Failure = (String, String);

/// `FAILED <prefix><key>: <reason>` lines, one per failure.
pub(crate) fn lines(failures: &[Failure], prefix: &str) -> String {
    failures
        .iter()
        .map(|(key, why)| format!("FAILED {prefix}{key}: {why}\n"))
        .collect()
}

/// The failures as a JSON array of `{"key", "reason"}`.
pub(crate) fn json(failures: &[Failure]) -> Value {
    failures
        .iter()
        .map(|(key, why)| json!({ "key": key, "reason": why }))
        .collect()
}
