//! The typed-label path: a label set known at compile time (an enum, or a struct of enums)
//! lists every value of every key, so every combination's series is resolved once, when the
//! family is made fixed, and a lookup is an array index: no hashing, no lock, no policy.
//!
//! ```
//! use codomyrmex_metrics::{FixedLabels, Registry};
//!
//! #[derive(Clone, Copy)]
//! enum Outcome { Ok, Retried, Failed }
//!
//! impl FixedLabels for Outcome {
//!     const KEYS: &'static [&'static str] = &["outcome"];
//!     const COUNT: usize = 3;
//!     fn index(self) -> usize { self as usize }
//!     fn values(index: usize) -> Vec<&'static str> {
//!         vec![["ok", "retried", "failed"][index]]
//!     }
//! }
//!
//! let r = Registry::default();
//! let jobs = r.counter_family("jobs", "Jobs by outcome.", &["outcome"]).unwrap().fixed::<Outcome>().unwrap();
//! jobs.get(Outcome::Retried).inc();
//! assert!(r.render(codomyrmex_metrics::Format::PrometheusText).contains("jobs_total{outcome=\"retried\"} 1"));
//! ```

use std::marker::PhantomData;

/// A label set known at compile time: its keys, how many sets there are, each set's place,
/// and the values of the set at a place. `index` must be below `COUNT`, and `values(i)` must
/// give one value per key, in `KEYS` order.
pub trait FixedLabels: Copy {
    /// The label keys, in the family's declared order.
    const KEYS: &'static [&'static str];
    /// How many label sets there are.
    const COUNT: usize;
    /// This set's place, below [`Self::COUNT`].
    fn index(self) -> usize;
    /// The values of the set at `index`, in [`Self::KEYS`] order (called when the family is
    /// made fixed, never on a recording).
    fn values(index: usize) -> Vec<&'static str>;
}

/// Every handle of a family, one per label set of `L`, in `L`'s order.
pub struct Fixed<H, L> {
    handles: Box<[H]>,
    _labels: PhantomData<fn(L)>,
}

impl<H: std::fmt::Debug, L> std::fmt::Debug for Fixed<H, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixed").field("sets", &self.handles.len()).finish_non_exhaustive()
    }
}

impl<H, L: FixedLabels> Fixed<H, L> {
    pub(crate) fn new(handles: Vec<H>) -> Self {
        Self { handles: handles.into_boxed_slice(), _labels: PhantomData }
    }

    /// The handle of `labels`: an array index.
    ///
    /// # Panics
    /// Never for a correct [`FixedLabels`] implementation; an `index` at or past `COUNT` is a
    /// bug in that implementation, and indexes past the end.
    #[inline]
    pub fn get(&self, labels: L) -> &H {
        &self.handles[labels.index()]
    }
}

/// Why a family could not be made fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FixedLabelsError {
    /// The family was declared with other label keys.
    #[error("metric {name:?} has label keys {declared:?}, the fixed labels {fixed:?}")]
    Keys {
        /// The metric.
        name: String,
        /// Its declared keys.
        declared: Vec<String>,
        /// The fixed set's keys.
        fixed: Vec<&'static str>,
    },
    /// The fixed set has more label sets than the metric may have series.
    #[error("metric {name:?} may have {limit} series; the fixed labels have {count} sets")]
    TooMany {
        /// The metric.
        name: String,
        /// Its series limit.
        limit: usize,
        /// The fixed set's label sets.
        count: usize,
    },
    /// A set's values do not match the keys (one value per key).
    #[error("set {index} of the fixed labels for metric {name:?} has {got} values for {keys} keys")]
    Arity {
        /// The metric.
        name: String,
        /// The set's place.
        index: usize,
        /// Values given.
        got: usize,
        /// Keys declared.
        keys: usize,
    },
}
