use std::sync::atomic::{AtomicU64, Ordering};

use super::atomic_f64_add;

/// A gauge: one `f64` stored as bits.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell {
    bits: AtomicU64,
}

impl GaugeCell {
    /// A gauge at zero.
    pub(crate) const fn new() -> Self {
        Self { bits: AtomicU64::new(0) }
    }

    /// Sets the value; the caller has refused NaN.
    #[inline]
    pub(crate) fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `delta` (negative to decrease).
    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        atomic_f64_add(&self.bits, delta);
    }

    /// The current value.
    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.bits.load(Ordering::Relaxed)
    }
}
