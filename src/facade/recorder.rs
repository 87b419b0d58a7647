use std::sync::Arc;

use metrics::{CounterFn, GaugeFn, HistogramFn, Key, KeyName, Metadata, SharedString};

use crate::instrument::values;
use crate::registry::family::Series;
use crate::registry::{Event, FamilyRef, MetricKind, Registry, Unit};
use crate::storage::{CounterCell, GaugeCell, HistogramCell};

/// A [`metrics::Recorder`] that records into a [`Registry`].
///
/// Facade names are rewritten into the metric-name grammar (`http.requests` →
/// `http_requests`, counted as `name_sanitized`). A name used with two types keeps the first;
/// the other calls record nothing (counted as `type_conflict`). `describe_*` supplies HELP and
/// unit. Histograms use the bucket layout the registry has for the name or its prefix.
///
/// ```
/// use codomyrmex_metrics::{get_metrics, Backend, Format};
/// let m = get_metrics(Backend::InMemory).unwrap();
/// metrics::with_local_recorder(&m.recorder(), || {
///     metrics::describe_counter!("jobs_done", "Jobs finished.");
///     metrics::counter!("jobs_done", "queue" => "mail").increment(2);
/// });
/// assert!(m.render(Format::PrometheusText).contains("jobs_done_total{queue=\"mail\"} 2"));
/// ```
#[derive(Clone, Debug)]
pub struct FacadeRecorder {
    registry: Registry,
}

impl FacadeRecorder {
    /// A recorder for `registry`.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }

    fn series<T>(
        &self,
        kind: MetricKind,
        key: &Key,
        pick: impl FnOnce(FamilyRef, &[(&str, &str)]) -> Option<Arc<T>>,
    ) -> Option<Arc<T>> {
        let family = self.registry.facade_family(kind, key.name())?;
        const N: usize = crate::instrument::MAX_LABEL_KEYS;
        let mut pairs = [("", ""); N];
        let mut n = 0;
        let mut extra = Vec::new();
        for l in key.labels() {
            if n < N {
                pairs[n] = (l.key(), l.value());
                n += 1;
            } else {
                extra.push((l.key(), l.value()));
            }
        }
        if extra.is_empty() {
            pick(family, &pairs[..n])
        } else {
            extra.extend_from_slice(&pairs[..n]);
            pick(family, &extra)
        }
    }
}

fn unit_of(unit: Option<metrics::Unit>) -> Option<Unit> {
    match unit {
        None | Some(metrics::Unit::Count) => None,
        Some(u) => Unit::new(u.as_str().replace([' ', '/'], "_")).ok(),
    }
}

impl metrics::Recorder for FacadeRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<metrics::Unit>, description: SharedString) {
        self.registry.describe(key.as_str(), unit_of(unit), &description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<metrics::Unit>, description: SharedString) {
        self.registry.describe(key.as_str(), unit_of(unit), &description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<metrics::Unit>, description: SharedString) {
        self.registry.describe(key.as_str(), unit_of(unit), &description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        self.series(MetricKind::Counter, key, |f, pairs| match f {
            FamilyRef::Counter(fam) => values::by_key(&fam, pairs, |fam, raw| fam.get(raw)),
            _ => None,
        })
        .map_or_else(metrics::Counter::noop, metrics::Counter::from_arc)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        self.series(MetricKind::Gauge, key, |f, pairs| match f {
            FamilyRef::Gauge(fam) => values::by_key(&fam, pairs, |fam, raw| fam.get(raw)),
            _ => None,
        })
        .map_or_else(metrics::Gauge::noop, metrics::Gauge::from_arc)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        self.series(MetricKind::Histogram, key, |f, pairs| match f {
            FamilyRef::Histogram(fam) => values::by_key(&fam, pairs, |fam, raw| fam.get(raw)),
            _ => None,
        })
        .map_or_else(metrics::Histogram::noop, metrics::Histogram::from_arc)
    }
}

impl CounterFn for Series<CounterCell> {
    fn increment(&self, value: u64) {
        self.cell.add(value);
    }

    fn absolute(&self, value: u64) {
        self.cell.raise_to(value);
    }
}

impl GaugeFn for Series<GaugeCell> {
    fn increment(&self, value: f64) {
        if value.is_nan() && values::refuse(self, Event::NanGauge) {
            return;
        }
        self.cell.add(value);
    }

    fn decrement(&self, value: f64) {
        self.increment(-value);
    }

    fn set(&self, value: f64) {
        if value.is_nan() && values::refuse(self, Event::NanGauge) {
            return;
        }
        self.cell.set(value);
    }
}

impl HistogramFn for Series<HistogramCell> {
    fn record(&self, value: f64) {
        if !value.is_finite() && values::refuse(self, Event::NonFiniteObservation) {
            return;
        }
        self.cell.observe(value);
    }
}
