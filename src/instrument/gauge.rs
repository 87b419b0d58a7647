use std::sync::Arc;

use super::values::{refuse, value_error};
use crate::registry::family::{Family, Series};
use crate::registry::Event;
use crate::storage::GaugeCell;

/// A value that goes up and down. NaN is refused and counted.
#[derive(Clone)]
#[must_use]
pub struct Gauge {
    pub(crate) inner: Option<Arc<Series<GaugeCell>>>,
}

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        if let Some(s) = &self.inner {
            set_on(s, v);
        }
    }

    /// Adds `delta`.
    #[inline]
    pub fn inc_by(&self, delta: f64) {
        if let Some(s) = &self.inner {
            if delta.is_nan() && refuse(s, Event::NanGauge) {
                return;
            }
            s.add(delta);
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.inc_by(-1.0);
    }

    /// Subtracts `delta`.
    #[inline]
    pub fn dec_by(&self, delta: f64) {
        self.inc_by(-delta);
    }

    /// Like [`Self::set`], but NaN is an error.
    ///
    /// # Errors
    /// [`crate::PolicyError::Value`] for NaN.
    pub fn try_set(&self, v: f64) -> Result<(), crate::PolicyError> {
        if let (Some(s), true) = (&self.inner, v.is_nan()) {
            s.desc().events.record(Event::NanGauge);
            return Err(value_error(s, Event::NanGauge));
        }
        self.set(v);
        Ok(())
    }

    /// The current value (0 for a no-op handle).
    pub fn value(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |s| s.cell.value())
    }
}

/// A gauge with labels: resolves label values to [`Gauge`] handles.
#[derive(Clone)]
pub struct GaugeFamily {
    pub(crate) fam: Arc<Family<GaugeCell>>,
}

impl GaugeFamily {
    /// Sets the series for `values`, without cloning a handle.
    #[inline]
    pub fn set(&self, values: &[&str], v: f64) {
        self.fam.with_series(values, |s| set_on(s, v));
    }
}

#[inline]
fn set_on(s: &Series<GaugeCell>, v: f64) {
    if v.is_nan() && refuse(s, Event::NanGauge) {
        return;
    }
    s.set(v);
}

super::family_methods!(GaugeFamily, Gauge, GaugeCell);
