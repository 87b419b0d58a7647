//! A structured view of every series, for exporters that do not speak the text formats
//! (a custom push exporter, a StatsD flush, a test).

use crate::registry::{Descriptor, FamilyRef, Registry, SeriesLabels};
use crate::storage::HistogramCell;

/// The current value of one series.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SeriesValue<'a> {
    /// A counter's total.
    Counter(f64),
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's buckets, sum and count.
    Histogram(&'a HistogramCell),
}

/// One series as an exporter sees it: its family, its labels and its value.
#[derive(Debug, Clone, Copy)]
pub struct SeriesView<'a> {
    /// The family: exposed name, help, unit, type.
    pub family: &'a Descriptor,
    /// The series' label pairs, unescaped, without the registry's global labels;
    /// `codomyrmex_overflow="true"` for a metric's overflow series.
    pub labels: SeriesLabels<'a>,
    /// The value.
    pub value: SeriesValue<'a>,
}

impl SeriesView<'_> {
    /// The exposed base name (a counter's without `_total`).
    pub fn name(&self) -> &str {
        self.family.name()
    }

    /// The labels as owned `(key, value)` pairs, in rendering order.
    pub fn label_pairs(&self) -> Vec<(String, String)> {
        self.labels.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }
}

impl Registry {
    /// Calls `f` for every series of every family, families in name order and series in label
    /// order, each metric's overflow series last. The crate's own metrics are not included;
    /// read them with [`Registry::self_metrics`].
    ///
    /// ```
    /// use codomyrmex_metrics::export::SeriesValue;
    /// use codomyrmex_metrics::Registry;
    /// let r = Registry::default();
    /// r.counter_family("jobs", "Jobs.", &["queue"]).unwrap().with(&["mail"]).inc_by(2);
    /// let mut seen = Vec::new();
    /// r.for_each_series(|s| {
    ///     if let SeriesValue::Counter(v) = s.value {
    ///         seen.push((s.name().to_owned(), s.label_pairs(), v));
    ///     }
    /// });
    /// assert_eq!(seen, vec![("jobs".to_owned(), vec![("queue".to_owned(), "mail".to_owned())], 2.0)]);
    /// ```
    ///
    /// `f` runs with no lock of the registry held (each family is copied out first, a pointer
    /// per series), so it may register metrics and record, even into new label sets of the
    /// family it is reading; what it adds may or may not be visited in the same call.
    pub fn for_each_series(&self, mut f: impl FnMut(&SeriesView<'_>)) {
        self.collect();
        let families: Vec<FamilyRef> = self.inner.families.read().by_name.values().cloned().collect();
        for family in &families {
            match family {
                FamilyRef::Counter(fam) => {
                    for (labels, s) in fam.snapshot().iter() {
                        f(&SeriesView { family: &fam.desc, labels, value: SeriesValue::Counter(s.cell.value()) });
                    }
                }
                FamilyRef::Gauge(fam) => {
                    for (labels, s) in fam.snapshot().iter() {
                        f(&SeriesView { family: &fam.desc, labels, value: SeriesValue::Gauge(s.cell.value()) });
                    }
                }
                FamilyRef::Histogram(fam) => {
                    for (labels, s) in fam.snapshot().iter() {
                        f(&SeriesView { family: &fam.desc, labels, value: SeriesValue::Histogram(&s.cell) });
                    }
                }
            }
        }
    }

    /// The labels added to every series, as given to [`crate::RegistryBuilder::global_label`].
    pub fn global_labels(&self) -> &[(String, String)] {
        &self.inner.global_pairs
    }
}
