use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{atomic_f64_add, Buckets};

/// A fixed-bucket histogram: one counter per bucket plus a sum. The total count is the sum of
/// the buckets, so `_count` always equals the `+Inf` bucket. Memory is constant, whatever the
/// number of observations and whether or not anyone reads them.
#[derive(Debug)]
pub struct HistogramCell {
    bounds: Arc<[f64]>,
    /// Non-cumulative counts; the last one is the `+Inf` bucket.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

/// A consistent-enough copy of a histogram for exporters that diff (StatsD, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds, without `+Inf`.
    pub bounds: Vec<f64>,
    /// Cumulative counts, one per bound plus the `+Inf` bucket.
    pub cumulative: Vec<u64>,
    /// Sum of observations.
    pub sum: f64,
}

impl HistogramSnapshot {
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

impl HistogramCell {
    /// An empty histogram with the given layout.
    pub fn new(buckets: &Buckets) -> Self {
        let bounds = buckets.shared();
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self { bounds, counts, sum: AtomicU64::new(0) }
    }

    /// Records one observation; the caller has refused non-finite values.
    #[inline]
    pub fn observe(&self, v: f64) {
        let idx = self.bucket_index(v);
        // `idx <= bounds.len()` and `counts.len() == bounds.len() + 1`.
        if let Some(c) = self.counts.get(idx) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        atomic_f64_add(&self.sum, v);
    }

    #[inline]
    fn bucket_index(&self, v: f64) -> usize {
        let bounds = &*self.bounds;
        if bounds.len() <= 16 {
            // A short linear scan beats a binary search on Prometheus-sized layouts.
            let mut i = 0;
            while i < bounds.len() && bounds[i] < v {
                i += 1;
            }
            i
        } else {
            bounds.partition_point(|b| *b < v)
        }
    }

    /// The finite upper bounds.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Calls `f(upper_bound, cumulative_count)` for each bucket, `+Inf` last; returns the total.
    pub fn for_each_cumulative(&self, mut f: impl FnMut(f64, u64)) -> u64 {
        let mut acc = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            acc = acc.wrapping_add(c.load(Ordering::Relaxed));
            let le = self.bounds.get(i).copied().unwrap_or(f64::INFINITY);
            f(le, acc);
        }
        acc
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).fold(0, u64::wrapping_add)
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(self.counts.len());
        self.for_each_cumulative(|_, c| cumulative.push(c));
        HistogramSnapshot { bounds: self.bounds.to_vec(), cumulative, sum: self.sum() }
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.count() ^ self.sum.load(Ordering::Relaxed).rotate_left(29)
    }
}
