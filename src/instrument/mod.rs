//! The instrument API: typed handles and labeled families.
//!
//! A handle is an `Option<Arc<series>>`: `inc`/`set`/`observe` is one branch and one or two
//! relaxed atomic operations, with no allocation. A handle the policy refused is a no-op.
//! A family resolves label values to handles once, through the policy, and caches the result.

mod counter;
mod fixed;
mod gauge;
pub(crate) mod grpc_names;
mod histogram;
#[cfg(feature = "tower")]
pub(crate) mod http;
#[cfg(feature = "process")]
mod process;
mod register;
pub(crate) mod values;

pub use counter::{Counter, CounterFamily};
pub use fixed::{Fixed, FixedLabels, FixedLabelsError};
pub use gauge::{Gauge, GaugeFamily};
pub use histogram::{Histogram, HistogramFamily};
#[cfg(feature = "process")]
pub use process::PROCESS_METRICS;

/// Most label keys a family may declare; more is a registration error.
pub const MAX_LABEL_KEYS: usize = 16;

/// Generates the label-resolution methods every family type shares.
macro_rules! family_methods {
    ($family:ident, $handle:ident, $cell:ty) => {
        impl $family {
            /// The handle for these label values, given in the declared key order. The policy
            /// runs on the first call for a value set; later calls are one cached lookup.
            /// Never fails: what the policy refuses becomes a sanitized, redacted or overflow
            /// series, or a no-op handle (counted in self-metrics).
            pub fn with(&self, values: &[&str]) -> $handle {
                $handle { inner: self.fam.get(values) }
            }

            /// Like [`Self::with`], but any change the policy makes to the label set is an error.
            ///
            /// # Errors
            /// The first [`crate::PolicyError`] the policy raised for this label set.
            pub fn try_with(&self, values: &[&str]) -> Result<$handle, crate::PolicyError> {
                match self.fam.try_get(values) {
                    Ok(inner) => Ok($handle { inner }),
                    Err(mut errors) => Err(errors.swap_remove(0)),
                }
            }

            /// The handle for `key = value` pairs in any order; keys not declared are dropped and
            /// counted, missing keys get an empty value.
            pub fn with_pairs(&self, pairs: &[(&str, &str)]) -> $handle {
                $handle { inner: crate::instrument::values::by_key(&self.fam, pairs, |fam, v| fam.get(v)) }
            }

            /// The metric's exposed name.
            pub fn name(&self) -> &str {
                self.fam.desc.name()
            }

            /// Number of series (the overflow series not included).
            pub fn series_count(&self) -> usize {
                self.fam.len()
            }

            /// Every label set of `L` resolved now, through the policy as [`Self::with`] does,
            /// into one handle each: a lookup is then an array index ([`crate::Fixed::get`]).
            ///
            /// # Errors
            /// The family's keys are not `L::KEYS`, `L` has more sets than the metric may have
            /// series, or a set has not one value per key.
            pub fn fixed<L: crate::FixedLabels>(&self) -> Result<crate::Fixed<$handle, L>, crate::FixedLabelsError> {
                let desc = &self.fam.desc;
                let name = || desc.name().to_owned();
                let declared: Vec<String> =
                    desc.keys.as_deref().unwrap_or_default().iter().map(|k| k.to_string()).collect();
                if declared.iter().map(String::as_str).ne(L::KEYS.iter().copied()) {
                    return Err(crate::FixedLabelsError::Keys { name: name(), declared, fixed: L::KEYS.to_vec() });
                }
                let limit = self.fam.series_limit();
                if L::COUNT > limit {
                    return Err(crate::FixedLabelsError::TooMany { name: name(), limit, count: L::COUNT });
                }
                let mut handles = Vec::with_capacity(L::COUNT);
                for index in 0..L::COUNT {
                    let values = L::values(index);
                    if values.len() != L::KEYS.len() {
                        let (got, keys) = (values.len(), L::KEYS.len());
                        return Err(crate::FixedLabelsError::Arity { name: name(), index, got, keys });
                    }
                    handles.push(self.with(&values));
                }
                Ok(crate::Fixed::new(handles))
            }
        }

        impl std::fmt::Debug for $family {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($family)).field("name", &self.fam.desc.name()).finish_non_exhaustive()
            }
        }

        impl $handle {
            /// A handle that records nothing.
            pub const fn noop() -> Self {
                Self { inner: None }
            }

            /// Whether this handle records nothing (refused by the policy, or [`Self::noop`]).
            pub fn is_noop(&self) -> bool {
                self.inner.is_none()
            }
        }

        impl std::fmt::Debug for $handle {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match &self.inner {
                    Some(s) => {
                        f.debug_struct(stringify!($handle)).field("name", &s.desc().name()).finish_non_exhaustive()
                    }
                    None => f.write_str(concat!(stringify!($handle), "(noop)")),
                }
            }
        }
    };
}
pub(crate) use family_methods;
