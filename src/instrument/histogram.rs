use std::sync::Arc;

use super::values::{refuse, value_error};
use crate::registry::family::{Family, Series};
use crate::registry::Event;
use crate::storage::{HistogramCell, HistogramSnapshot};

/// A fixed-bucket histogram. `observe` is two relaxed atomic operations; memory is constant.
#[derive(Clone)]
#[must_use]
pub struct Histogram {
    pub(crate) inner: Option<Arc<Series<HistogramCell>>>,
}

#[inline]
fn observe_on(s: &Series<HistogramCell>, v: f64) {
    if !v.is_finite() && refuse(s, Event::NonFiniteObservation) {
        return;
    }
    s.observe(v);
}

impl Histogram {
    /// Records one observation. Non-finite values are refused and counted.
    #[inline]
    pub fn observe(&self, v: f64) {
        if let Some(s) = &self.inner {
            observe_on(s, v);
        }
    }

    /// Like [`Self::observe`], but a non-finite value is an error.
    ///
    /// # Errors
    /// [`crate::PolicyError::Value`] for NaN or an infinity.
    pub fn try_observe(&self, v: f64) -> Result<(), crate::PolicyError> {
        if let (Some(s), false) = (&self.inner, v.is_finite()) {
            s.desc().events.record(Event::NonFiniteObservation);
            return Err(value_error(s, Event::NonFiniteObservation));
        }
        self.observe(v);
        Ok(())
    }

    /// A copy of the buckets, sum and count (`None` for a no-op handle).
    pub fn snapshot(&self) -> Option<HistogramSnapshot> {
        self.inner.as_ref().map(|s| s.cell.snapshot())
    }
}

/// A histogram with labels: resolves label values to [`Histogram`] handles.
#[derive(Clone)]
pub struct HistogramFamily {
    pub(crate) fam: Arc<Family<HistogramCell>>,
}

impl HistogramFamily {
    /// Observes into the series for `values`, without cloning a handle.
    #[inline]
    pub fn observe(&self, values: &[&str], v: f64) {
        self.fam.with_series(values, |s| observe_on(s, v));
    }
}

super::family_methods!(HistogramFamily, Histogram, HistogramCell);
