//! The typed registration API on [`Registry`].

use super::{Counter, CounterFamily, Gauge, GaugeFamily, Histogram, HistogramFamily, MAX_LABEL_KEYS};
use crate::error::RegistrationError;
use crate::registry::{FamilyRef, MetricKind, MetricOpts, Registry};
use crate::storage::Buckets;

impl Registry {
    fn register_typed(&self, kind: MetricKind, opts: MetricOpts) -> Result<FamilyRef, RegistrationError> {
        if opts.keys.len() > MAX_LABEL_KEYS {
            return Err(RegistrationError::InvalidLabelKey {
                name: opts.name,
                key: format!("(more than {MAX_LABEL_KEYS} keys)"),
            });
        }
        let keys = opts.keys.clone();
        self.register_family(kind, opts, Some(keys))
    }

    /// Registers a counter family. The same options again return the same family.
    ///
    /// # Errors
    /// [`RegistrationError`] for an invalid or reserved name or key, a sensitive key, or a
    /// name registered with another type, help, unit, keys or buckets.
    pub fn register_counter(&self, opts: MetricOpts) -> Result<CounterFamily, RegistrationError> {
        match self.register_typed(MetricKind::Counter, opts)? {
            FamilyRef::Counter(fam) => Ok(CounterFamily { fam }),
            _ => unreachable!("register_family returns the kind it was asked for"),
        }
    }

    /// Registers a gauge family.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn register_gauge(&self, opts: MetricOpts) -> Result<GaugeFamily, RegistrationError> {
        match self.register_typed(MetricKind::Gauge, opts)? {
            FamilyRef::Gauge(fam) => Ok(GaugeFamily { fam }),
            _ => unreachable!("register_family returns the kind it was asked for"),
        }
    }

    /// Registers a histogram family.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn register_histogram(&self, opts: MetricOpts) -> Result<HistogramFamily, RegistrationError> {
        match self.register_typed(MetricKind::Histogram, opts)? {
            FamilyRef::Histogram(fam) => Ok(HistogramFamily { fam }),
            _ => unreachable!("register_family returns the kind it was asked for"),
        }
    }

    /// A counter without labels.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn counter(&self, name: &str, help: &str) -> Result<Counter, RegistrationError> {
        Ok(self.register_counter(MetricOpts::new(name, help))?.with(&[]))
    }

    /// A counter family with these label keys.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn counter_family(&self, name: &str, help: &str, keys: &[&str]) -> Result<CounterFamily, RegistrationError> {
        self.register_counter(MetricOpts::new(name, help).labels(keys.iter().copied()))
    }

    /// A gauge without labels.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn gauge(&self, name: &str, help: &str) -> Result<Gauge, RegistrationError> {
        Ok(self.register_gauge(MetricOpts::new(name, help))?.with(&[]))
    }

    /// A gauge family with these label keys.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn gauge_family(&self, name: &str, help: &str, keys: &[&str]) -> Result<GaugeFamily, RegistrationError> {
        self.register_gauge(MetricOpts::new(name, help).labels(keys.iter().copied()))
    }

    /// A histogram without labels, with these buckets.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn histogram(&self, name: &str, help: &str, buckets: Buckets) -> Result<Histogram, RegistrationError> {
        Ok(self.register_histogram(MetricOpts::new(name, help).buckets(buckets))?.with(&[]))
    }

    /// A histogram family with these label keys and buckets.
    ///
    /// # Errors
    /// As [`Self::register_counter`].
    pub fn histogram_family(
        &self,
        name: &str,
        help: &str,
        keys: &[&str],
        buckets: Buckets,
    ) -> Result<HistogramFamily, RegistrationError> {
        self.register_histogram(MetricOpts::new(name, help).labels(keys.iter().copied()).buckets(buckets))
    }
}
