//! Storage: the atomic cells behind every series.
//!
//! Cells know nothing about names, labels or wire formats. A resolved handle holds an
//! `Arc` to one cell and updates it with one or two relaxed atomic operations.

mod buckets;
mod counter_cell;
mod exp_histogram_cell;
mod gauge_cell;
mod histogram_cell;
mod shard;

pub use buckets::{Buckets, BucketsError, MAX_BUCKETS};
pub(crate) use counter_cell::CounterCell;
pub(crate) use exp_histogram_cell::ExpHistogramCell;
pub use exp_histogram_cell::{ExpBuckets, ExpHistogramSnapshot, EXP_MAX_BUCKETS, EXP_MAX_SCALE};
pub(crate) use gauge_cell::GaugeCell;
pub use histogram_cell::{HistogramCell, HistogramSnapshot};

use std::sync::atomic::{AtomicU64, Ordering};

/// One cache line of counters, so shards never share a line.
#[repr(align(64))]
#[derive(Debug, Default)]
pub(crate) struct Line(pub(crate) [AtomicU64; 8]);

/// Adds `delta` to an `f64` stored as bits in an `AtomicU64`.
#[inline]
pub(crate) fn atomic_f64_add(cell: &AtomicU64, delta: f64) {
    let mut current = cell.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match cell.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}
