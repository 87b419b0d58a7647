use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::shard::{thread_index, SHARDS};
use super::{atomic_f64_add, Buckets, Line};

/// A fixed-bucket histogram: per bucket a counter, plus a sum, in one shard per core so that
/// threads observing at once do not fight over cache lines. Outside the crate it is read-only
/// (what [`crate::export::SeriesValue::Histogram`] shows); only the crate records into it.
/// The count is the sum of the buckets, so `_count` always equals the `+Inf` bucket. Memory is
/// fixed at creation, whatever the number of observations and whether or not anyone reads them.
#[derive(Debug)]
pub struct HistogramCell {
    /// Set for a base-2 exponential histogram, which then has no fixed bounds or lines.
    exp: Option<Box<super::ExpHistogramCell>>,
    bounds: Arc<[f64]>,
    /// Shard `s` holds slots `s * stride ..`: the buckets (`+Inf` last), then the sum.
    lines: Box<[Line]>,
    stride: usize,
    mask: usize,
}

/// A copy of a histogram for exporters that diff (StatsD, tests).
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
    pub(crate) fn new(buckets: &Buckets) -> Self {
        if buckets.is_base2_exponential() {
            let exp = Some(Box::default());
            return Self { exp, bounds: Arc::new([]), lines: Box::new([]), stride: 0, mask: 0 };
        }
        let bounds = buckets.shared();
        let slots = bounds.len() + 2;
        let stride = slots.div_ceil(8) * 8;
        let shards = *SHARDS;
        let lines = (0..shards * stride / 8).map(|_| Line::default()).collect();
        Self { exp: None, bounds, lines, stride, mask: shards - 1 }
    }

    #[inline]
    fn slot(&self, shard: usize, i: usize) -> Option<&AtomicU64> {
        let j = shard * self.stride + i;
        self.lines.get(j >> 3).map(|l| &l.0[j & 7])
    }

    /// Records one observation; the caller has refused non-finite values.
    #[inline]
    pub(crate) fn observe(&self, v: f64) {
        if let Some(exp) = &self.exp {
            exp.observe(v);
            return;
        }
        let shard = if self.mask == 0 { 0 } else { thread_index() & self.mask };
        let idx = self.bucket_index(v);
        if let Some(c) = self.slot(shard, idx) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(sum) = self.slot(shard, self.bounds.len() + 1) {
            atomic_f64_add(sum, v);
        }
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

    fn shards(&self) -> usize {
        self.mask + 1
    }

    fn bucket(&self, i: usize) -> u64 {
        (0..self.shards()).filter_map(|s| self.slot(s, i)).map(|c| c.load(Ordering::Relaxed)).fold(0, u64::wrapping_add)
    }

    /// The finite upper bounds (none for a base-2 exponential histogram, whose buckets move:
    /// see [`Self::exponential`]).
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// A base-2 exponential histogram's state; `None` for fixed bounds.
    pub fn exponential(&self) -> Option<super::ExpHistogramSnapshot> {
        self.exp.as_ref().map(|e| e.snapshot())
    }

    /// Calls `f(upper_bound, cumulative_count)` for each bucket, `+Inf` last; returns the total.
    /// A base-2 exponential histogram shows its buckets in value order (negative ones, zero as
    /// `0`, positive ones).
    pub fn for_each_cumulative(&self, mut f: impl FnMut(f64, u64)) -> u64 {
        if let Some(exp) = &self.exp {
            let snap = exp.snapshot();
            snap.for_each_cumulative(f);
            return snap.count;
        }
        let mut acc = 0u64;
        for i in 0..=self.bounds.len() {
            acc = acc.wrapping_add(self.bucket(i));
            f(self.bounds.get(i).copied().unwrap_or(f64::INFINITY), acc);
        }
        acc
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        if let Some(exp) = &self.exp {
            return exp.count();
        }
        (0..=self.bounds.len()).map(|i| self.bucket(i)).fold(0, u64::wrapping_add)
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        if let Some(exp) = &self.exp {
            return exp.sum();
        }
        (0..self.shards())
            .filter_map(|s| self.slot(s, self.bounds.len() + 1))
            .map(|c| f64::from_bits(c.load(Ordering::Relaxed)))
            .sum()
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> HistogramSnapshot {
        if let Some(exp) = &self.exp {
            let snap = exp.snapshot();
            let (mut bounds, mut cumulative) = (Vec::new(), Vec::new());
            snap.for_each_cumulative(|le, c| {
                if le.is_finite() {
                    bounds.push(le);
                }
                cumulative.push(c);
            });
            return HistogramSnapshot { bounds, cumulative, sum: snap.sum };
        }
        let mut cumulative = Vec::with_capacity(self.bounds.len() + 1);
        self.for_each_cumulative(|_, c| cumulative.push(c));
        HistogramSnapshot { bounds: self.bounds.to_vec(), cumulative, sum: self.sum() }
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        if let Some(exp) = &self.exp {
            return exp.fingerprint();
        }
        self.count() ^ self.sum().to_bits().rotate_left(29)
    }
}
