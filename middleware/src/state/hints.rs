//! What this instance has seen of each reference: the cost model's evidence for renewing.

use std::collections::HashMap;
use std::sync::Mutex;

/// The delta ratios of the versions encoded against each reference (by this instance), in
/// order: the cost model's evidence of how versions drift from a reference. A hint kept in
/// memory; losing it only delays a re-baseline.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    ratios: Mutex<HashMap<(String, String), Vec<f64>>>,
}

/// History kept per reference; a re-baseline is long due before it fills.
const MAX_HISTORY: usize = 256;

impl Hints {
    /// The ratios seen against `ref_key` so far (empty when none).
    pub(crate) fn history(&self, bucket: &str, ref_key: &str) -> Vec<f64> {
        self.ratios
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(bucket.to_owned(), ref_key.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Records the ratio of one more version encoded against `ref_key`; returns the
    /// history with it.
    pub(crate) fn observe(&self, bucket: &str, ref_key: &str, ratio: f64) -> Vec<f64> {
        let mut map = self
            .ratios
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        let history = map
            .entry((bucket.to_owned(), ref_key.to_owned()))
            .or_default();
        if history.len() < MAX_HISTORY {
            history.push(ratio);
        } else if let Some(last) = history.last_mut() {
            *last = ratio;
        }
        history.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_keep_each_references_history() {
        let hints = Hints::default();
        assert_eq!(hints.observe("b", "p/reference.bin", 0.02), [0.02]);
        assert_eq!(hints.observe("b", "p/reference.bin", 0.01), [0.02, 0.01]);
        assert_eq!(hints.observe("b", "q/reference.bin", 0.05), [0.05]);
        assert_eq!(hints.observe("c", "p/reference.bin", 0.07), [0.07]);
        assert_eq!(hints.history("b", "p/reference.bin"), [0.02, 0.01]);
        assert!(hints.history("b", "none").is_empty());
    }
}
