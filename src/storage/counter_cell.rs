use std::sync::atomic::{AtomicU64, Ordering};

use super::shard::{thread_index, SHARDS};
use super::{atomic_f64_add, Line};

/// A monotonic counter: an integer part (one `fetch_add`) and a float part (a CAS loop),
/// so integer increments never pay for floating point. A sharded counter spreads its integer
/// part over one cache line per core, so threads adding at once do not contend.
#[derive(Debug, Default)]
pub(crate) struct CounterCell {
    int: AtomicU64,
    float: AtomicU64,
    shards: Option<Box<Shards>>,
}

#[derive(Debug, Default)]
struct Shards {
    lines: [Line; 8],
    mask: usize,
}

impl CounterCell {
    /// A counter at zero.
    pub(crate) const fn new() -> Self {
        Self { int: AtomicU64::new(0), float: AtomicU64::new(0), shards: None }
    }

    /// A counter at zero whose integer part is sharded per core (at most 8 shards).
    pub(crate) fn sharded() -> Self {
        let shards = *SHARDS;
        if shards <= 1 {
            return Self::new();
        }
        Self { shards: Some(Box::new(Shards { lines: Default::default(), mask: shards - 1 })), ..Self::new() }
    }

    /// Adds an integer amount.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        match &self.shards {
            None => self.int.fetch_add(n, Ordering::Relaxed),
            Some(s) => s.lines[thread_index() & s.mask].0[0].fetch_add(n, Ordering::Relaxed),
        };
    }

    /// Adds a float amount; the caller has checked that it is finite and `>= 0`.
    #[inline]
    pub(crate) fn add_f64(&self, v: f64) {
        atomic_f64_add(&self.float, v);
    }

    /// Raises the counter to `n` if it is below (used by the `metrics` facade's `absolute`).
    /// Returns how much it added.
    ///
    /// Sharded, the raise goes into the base word by compare-and-swap against the base it read,
    /// so two threads raising to the same `n` at once add it once: the loser sees the winner's
    /// base and retries against the new total. The base only grows, so there is no ABA.
    pub(crate) fn raise_to(&self, n: u64) -> u64 {
        let Some(shards) = &self.shards else {
            return n.saturating_sub(self.int.fetch_max(n, Ordering::Relaxed));
        };
        let mut base = self.int.load(Ordering::Relaxed);
        loop {
            let sharded = shards.lines.iter().map(|l| l.0[0].load(Ordering::Relaxed)).fold(0, u64::wrapping_add);
            let now = base.wrapping_add(sharded);
            if n <= now {
                return 0;
            }
            match self.int.compare_exchange_weak(base, base + (n - now), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return n - now,
                Err(current) => base = current,
            }
        }
    }

    /// The integer part.
    pub(crate) fn int_value(&self) -> u64 {
        let base = self.int.load(Ordering::Relaxed);
        match &self.shards {
            None => base,
            Some(s) => s.lines.iter().map(|l| l.0[0].load(Ordering::Relaxed)).fold(base, u64::wrapping_add),
        }
    }

    /// The float part.
    pub(crate) fn float_value(&self) -> f64 {
        f64::from_bits(self.float.load(Ordering::Relaxed))
    }

    /// The whole value as `f64`.
    pub(crate) fn value(&self) -> f64 {
        self.int_value() as f64 + self.float_value()
    }

    /// A cheap fingerprint that changes whenever the counter changes (for idle expiry).
    pub(crate) fn fingerprint(&self) -> u64 {
        self.int_value() ^ self.float.load(Ordering::Relaxed).rotate_left(17)
    }
}
