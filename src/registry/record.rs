//! Recording into a series: the cell's atomics, then, when a StatsD backend wants single
//! events, the series' tap. Without the `statsd` feature this is the cell operation alone; with
//! it and no StatsD backend, one more load and a branch not taken.

use super::family::Series;
use crate::storage::{CounterCell, GaugeCell, HistogramCell};

#[cfg(feature = "statsd")]
use crate::backend::statsd::tap::PointKind;

impl Series<CounterCell> {
    /// Adds `n`.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.cell.add(n);
        #[cfg(feature = "statsd")]
        if let Some(tap) = &self.tap {
            tap.send(PointKind::Count, n as f64, &self.desc);
        }
    }

    /// Adds a checked (finite, non-negative) float amount.
    #[inline]
    pub(crate) fn add_f64(&self, v: f64) {
        self.cell.add_f64(v);
        #[cfg(feature = "statsd")]
        if let Some(tap) = &self.tap {
            tap.send(PointKind::Count, v, &self.desc);
        }
    }

    /// Raises the counter to `n` if it is below.
    #[inline]
    pub(crate) fn raise_to(&self, n: u64) {
        let _added = self.cell.raise_to(n);
        #[cfg(feature = "statsd")]
        if let (Some(tap), true) = (&self.tap, _added > 0) {
            tap.send(PointKind::Count, _added as f64, &self.desc);
        }
    }
}

impl Series<GaugeCell> {
    /// Sets a checked (not NaN) value.
    #[inline]
    pub(crate) fn set(&self, v: f64) {
        self.cell.set(v);
        #[cfg(feature = "statsd")]
        if let Some(tap) = &self.tap {
            tap.send(PointKind::Gauge, v, &self.desc);
        }
    }

    /// Adds a checked (not NaN) delta.
    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        self.cell.add(delta);
        #[cfg(feature = "statsd")]
        if let Some(tap) = &self.tap {
            tap.send(PointKind::Gauge, self.cell.value(), &self.desc);
        }
    }
}

impl Series<HistogramCell> {
    /// Records a checked (finite) observation.
    #[inline]
    pub(crate) fn observe(&self, v: f64) {
        self.cell.observe(v);
        #[cfg(feature = "statsd")]
        if let Some(tap) = &self.tap {
            tap.send(PointKind::Sample, v, &self.desc);
        }
    }
}
