use std::sync::atomic::{AtomicU64, Ordering};

use super::atomic_f64_add;

/// A monotonic counter: an integer part (one `fetch_add`) and a float part (a CAS loop),
/// so integer increments never pay for floating point.
#[derive(Debug, Default)]
pub struct CounterCell {
    int: AtomicU64,
    float: AtomicU64,
}

impl CounterCell {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self { int: AtomicU64::new(0), float: AtomicU64::new(0) }
    }

    /// Adds an integer amount.
    #[inline]
    pub fn add(&self, n: u64) {
        self.int.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds a float amount; the caller has checked that it is finite and `>= 0`.
    #[inline]
    pub fn add_f64(&self, v: f64) {
        atomic_f64_add(&self.float, v);
    }

    /// Raises the counter to `n` if it is below (used by the `metrics` facade's `absolute`).
    pub fn raise_to(&self, n: u64) {
        self.int.fetch_max(n, Ordering::Relaxed);
    }

    /// The integer part.
    pub fn int_value(&self) -> u64 {
        self.int.load(Ordering::Relaxed)
    }

    /// The float part.
    pub fn float_value(&self) -> f64 {
        f64::from_bits(self.float.load(Ordering::Relaxed))
    }

    /// The whole value as `f64`.
    pub fn value(&self) -> f64 {
        self.int_value() as f64 + self.float_value()
    }

    /// A cheap fingerprint that changes whenever the counter changes (for idle expiry).
    pub(crate) fn fingerprint(&self) -> u64 {
        self.int_value() ^ self.float.load(Ordering::Relaxed).rotate_left(17)
    }
}
