use std::sync::Arc;

use super::values::{counter_increment, refuse, value_error};
use crate::registry::family::{Family, Series};
use crate::storage::CounterCell;

/// A monotonic counter. Cheap to clone; `inc` is one relaxed atomic add.
#[derive(Clone)]
#[must_use]
pub struct Counter {
    pub(crate) inner: Option<Arc<Series<CounterCell>>>,
}

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        if let Some(s) = &self.inner {
            s.add(1);
        }
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        if let Some(s) = &self.inner {
            s.add(n);
        }
    }

    /// Adds a float amount. Negative and non-finite amounts are refused and counted.
    #[inline]
    pub fn inc_by_f64(&self, v: f64) {
        if let Some(s) = &self.inner {
            if let Some(event) = counter_increment(v) {
                if refuse(s, event) {
                    return;
                }
            }
            s.add_f64(v);
        }
    }

    /// Like [`Self::inc_by_f64`], but a refused amount is an error.
    ///
    /// # Errors
    /// [`crate::PolicyError::Value`] for a negative or non-finite amount.
    pub fn try_inc_by_f64(&self, v: f64) -> Result<(), crate::PolicyError> {
        if let (Some(s), Some(event)) = (&self.inner, counter_increment(v)) {
            s.desc().events.record(event);
            return Err(value_error(s, event));
        }
        self.inc_by_f64(v);
        Ok(())
    }

    /// The current value (0 for a no-op handle).
    pub fn value(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |s| s.cell.value())
    }
}

/// A counter with labels: resolves label values to [`Counter`] handles.
#[derive(Clone)]
pub struct CounterFamily {
    pub(crate) fam: Arc<Family<CounterCell>>,
}

impl CounterFamily {
    /// Adds one to the series for `values`, without cloning a handle.
    #[inline]
    pub fn inc(&self, values: &[&str]) {
        self.fam.with_series(values, |s| s.add(1));
    }

    /// Adds `n` to the series for `values`.
    #[inline]
    pub fn inc_by(&self, values: &[&str], n: u64) {
        self.fam.with_series(values, |s| s.add(n));
    }
}

super::family_methods!(CounterFamily, Counter, CounterCell);
