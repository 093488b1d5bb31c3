//! Histograms of durations and sizes, with Prometheus' cumulative buckets.

use std::sync::Mutex;

/// Upper bounds (seconds) for durations: 1 ms to 60 s.
pub(crate) const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Upper bounds (bytes) for object sizes: 1 KiB to 4 GiB.
pub(crate) const BYTES: &[f64] = &[
    1024.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
    268_435_456.0,
    1_073_741_824.0,
    4_294_967_296.0,
];

/// A histogram as read at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Upper bounds of the buckets (the last, `+Inf`, is implied).
    pub bounds: &'static [f64],
    /// Observations at or under each bound (cumulative, as Prometheus counts them).
    pub cumulative: Vec<u64>,
    /// Observations in all.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

impl Histogram {
    /// An estimate of quantile `q` (0–1), interpolated within its bucket as Prometheus'
    /// `histogram_quantile` does; `None` with no observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * self.count as f64;
        let mut below = 0u64;
        let mut lower = 0.0;
        for (bound, &n) in self.bounds.iter().zip(&self.cumulative) {
            if n as f64 >= rank && n > below {
                let share = (rank - below as f64) / (n - below) as f64;
                return Some(lower + (bound - lower) * share.clamp(0.0, 1.0));
            }
            below = n;
            lower = *bound;
        }
        // Above the last bound: the last bound is all that can be said.
        self.bounds.last().copied()
    }
}

/// A histogram being recorded.
#[derive(Debug)]
pub(crate) struct Recorder {
    bounds: &'static [f64],
    state: Mutex<(Vec<u64>, u64, f64)>,
}

impl Recorder {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            state: Mutex::new((vec![0; bounds.len()], 0, 0.0)),
        }
    }

    /// Counts one observation of `value`.
    pub(crate) fn observe(&self, value: f64) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (buckets, count, sum) = &mut *state;
        for (bucket, bound) in buckets.iter_mut().zip(self.bounds) {
            if value <= *bound {
                *bucket += 1;
            }
        }
        *count += 1;
        *sum += value;
    }

    pub(crate) fn snapshot(&self) -> Histogram {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Histogram {
            bounds: self.bounds,
            cumulative: state.0.clone(),
            count: state.1,
            sum: state.2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_buckets() {
        let h = Recorder::new(&[1.0, 2.0, 4.0]);
        assert_eq!(h.snapshot().quantile(0.5), None);
        for v in [0.5, 1.5, 1.5, 3.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative, [1, 3, 4]);
        assert_eq!(s.quantile(0.25), Some(1.0));
        assert_eq!(s.quantile(0.5), Some(1.5));
        assert_eq!(s.quantile(1.0), Some(4.0));
        h.observe(100.0);
        assert_eq!(h.snapshot().quantile(1.0), Some(4.0));
    }
}
