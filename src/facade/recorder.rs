use metrics::{CounterFn, GaugeFn, HistogramFn, Key, KeyName, Metadata, SharedString};

use super::cache::{Cached, FacadeCache};
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
#[derive(Clone)]
pub struct FacadeRecorder {
    registry: Registry,
    /// Keys to series, the facade's own (clones share it).
    cache: std::sync::Arc<FacadeCache>,
}

impl std::fmt::Debug for FacadeRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacadeRecorder").field("registry", &self.registry).finish_non_exhaustive()
    }
}

impl FacadeRecorder {
    /// A recorder for `registry`, with a key cache of its own (bounded at twice the
    /// registry's series limit).
    pub fn new(registry: Registry) -> Self {
        let (limit, part_cap) = registry.facade_cache_bounds();
        Self { registry, cache: std::sync::Arc::new(FacadeCache::new(limit, part_cap)) }
    }

    /// The series for `key`: the cache first, then the full path, whose result is cached.
    #[inline]
    fn cached(&self, kind: MetricKind, key: &Key) -> Cached {
        let generation = self.registry.expiry_generation();
        if let Some(hit) = self.cache.get(key, generation) {
            if hit.kind() == kind {
                return hit;
            }
            self.registry.self_metrics().record(Event::TypeConflict);
            return Cached::Counter(None);
        }
        self.resolve(kind, key, generation)
    }

    #[cold]
    fn resolve(&self, kind: MetricKind, key: &Key, generation: u64) -> Cached {
        if self.registry.inner.shared.disabled {
            return Cached::Counter(None);
        }
        let Some(family) = self.registry.facade_family(kind, key.name()) else {
            return Cached::Counter(None);
        };
        let pairs: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        let resolved = match family {
            FamilyRef::Counter(f) => Cached::Counter(values::by_key(&f, &pairs, |f, raw| f.get(raw))),
            FamilyRef::Gauge(f) => Cached::Gauge(values::by_key(&f, &pairs, |f, raw| f.get(raw))),
            FamilyRef::Histogram(f) => Cached::Histogram(values::by_key(&f, &pairs, |f, raw| f.get(raw))),
        };
        self.cache.insert(key, &resolved, generation, self.registry.expiry_generation());
        resolved
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
        match self.cached(MetricKind::Counter, key) {
            Cached::Counter(Some(s)) => metrics::Counter::from_arc(s),
            _ => metrics::Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        match self.cached(MetricKind::Gauge, key) {
            Cached::Gauge(Some(s)) => metrics::Gauge::from_arc(s),
            _ => metrics::Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        match self.cached(MetricKind::Histogram, key) {
            Cached::Histogram(Some(s)) => metrics::Histogram::from_arc(s),
            _ => metrics::Histogram::noop(),
        }
    }
}

impl CounterFn for Series<CounterCell> {
    fn increment(&self, value: u64) {
        self.add(value);
    }

    fn absolute(&self, value: u64) {
        self.raise_to(value);
    }
}

impl GaugeFn for Series<GaugeCell> {
    fn increment(&self, value: f64) {
        if value.is_nan() && values::refuse(self, Event::NanGauge) {
            return;
        }
        self.add(value);
    }

    fn decrement(&self, value: f64) {
        self.increment(-value);
    }

    fn set(&self, value: f64) {
        if value.is_nan() && values::refuse(self, Event::NanGauge) {
            return;
        }
        // The inherent `Series::set` (cell, then tap), not this trait method.
        Series::<GaugeCell>::set(self, value);
    }
}

impl HistogramFn for Series<HistogramCell> {
    fn record(&self, value: f64) {
        if !value.is_finite() && values::refuse(self, Event::NonFiniteObservation) {
            return;
        }
        self.observe(value);
    }
}
