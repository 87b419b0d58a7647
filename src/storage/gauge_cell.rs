use std::sync::atomic::{AtomicU64, Ordering};

use super::atomic_f64_add;

/// A gauge: one `f64` stored as bits.
#[derive(Debug, Default)]
pub struct GaugeCell {
    bits: AtomicU64,
}

impl GaugeCell {
    /// A gauge at zero.
    pub const fn new() -> Self {
        Self { bits: AtomicU64::new(0) }
    }

    /// Sets the value; the caller has refused NaN.
    #[inline]
    pub fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `delta` (negative to decrease).
    #[inline]
    pub fn add(&self, delta: f64) {
        atomic_f64_add(&self.bits, delta);
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.bits.load(Ordering::Relaxed)
    }
}
