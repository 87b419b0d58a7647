//! Recording into a series: the cell's atomics, then the hooks of the observers that watch it
//! (see [`super::observer`]), if any: for a series nobody watches, one branch not taken.

use super::family::Series;
use super::observer::SeriesEvent;
use crate::storage::{CounterCell, GaugeCell, HistogramCell};

impl<C> Series<C> {
    #[inline]
    fn notify(&self, event: SeriesEvent, value: f64) {
        if let Some(hooks) = &self.hooks {
            hooks.record(event, value);
        }
    }
}

impl Series<CounterCell> {
    /// Adds `n`.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.cell.add(n);
        self.notify(SeriesEvent::Added, n as f64);
    }

    /// Adds a checked (finite, non-negative) float amount.
    #[inline]
    pub(crate) fn add_f64(&self, v: f64) {
        self.cell.add_f64(v);
        self.notify(SeriesEvent::Added, v);
    }

    /// Raises the counter to `n` if it is below.
    #[inline]
    pub(crate) fn raise_to(&self, n: u64) {
        let added = self.cell.raise_to(n);
        if added > 0 {
            self.notify(SeriesEvent::Added, added as f64);
        }
    }
}

impl Series<GaugeCell> {
    /// Sets a checked (not NaN) value.
    #[inline]
    pub(crate) fn set(&self, v: f64) {
        self.cell.set(v);
        self.notify(SeriesEvent::Set, v);
    }

    /// Adds a checked (not NaN) delta.
    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        self.cell.add(delta);
        if self.hooks.is_some() {
            self.notify(SeriesEvent::Set, self.cell.value());
        }
    }
}

impl Series<HistogramCell> {
    /// Records a checked (finite) observation.
    #[inline]
    pub(crate) fn observe(&self, v: f64) {
        self.cell.observe(v);
        self.notify(SeriesEvent::Observed, v);
    }
}
