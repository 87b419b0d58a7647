//! What the exporter remembers of each series between exports: when it began (its start time,
//! so a receiver can tell a reset from a rise) and, for delta temporality, the values the
//! receiver last accepted.
//!
//! Start times come from the series' creation: the exporter's [`Births`] observer notes the
//! time of each new series (it watches no recording, so the hot path does not change), and the
//! next export takes it over. A series that expired and came back under the same labels is
//! born again, so its start time moves and its delta baseline goes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::NumberDataPoint;
use parking_lot::Mutex;

use crate::{NewSeries, SeriesHook, SeriesObserver};

/// Nanoseconds since the Unix epoch now.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A series' identity across exports: its name, then each label key and value, each ended by
/// a NUL (which no name and, after the policy, no label can hold).
pub(crate) fn series_key<'a>(out: &mut String, name: &str, labels: impl IntoIterator<Item = (&'a str, &'a str)>) {
    out.clear();
    out.push_str(name);
    out.push('\0');
    for (k, v) in labels {
        out.push_str(k);
        out.push('\0');
        out.push_str(v);
        out.push('\0');
    }
}

/// A map by series key, hashed with foldhash (an export looks up every series).
pub(crate) type KeyMap<V> = hashbrown::HashMap<Box<str>, V, foldhash::fast::RandomState>;

/// The creation times of series the exporter has not exported yet.
#[derive(Debug, Default)]
pub(crate) struct Births(Mutex<KeyMap<u64>>);

impl Births {
    /// Every creation time noted since the last call (one lock per export, not per series).
    pub(crate) fn take_all(&self) -> KeyMap<u64> {
        std::mem::take(&mut *self.0.lock())
    }

    /// The creation time of one series, taken over (for one made after [`Self::take_all`]).
    pub(crate) fn take(&self, key: &str) -> Option<u64> {
        self.0.lock().remove(key)
    }

    /// Gives back the times an export did not use of series born at `nanos` or later (made
    /// while it read); those born earlier expired unseen and are forgotten.
    pub(crate) fn give_back(&self, mut unused: KeyMap<u64>, nanos: u64) {
        unused.retain(|_, born| *born >= nanos);
        if !unused.is_empty() {
            self.0.lock().extend(unused);
        }
    }
}

/// Notes each new series' creation time for the exporter.
#[derive(Debug)]
pub(crate) struct BirthObserver(pub(crate) Arc<Births>);

impl SeriesObserver for BirthObserver {
    /// The exporter's self-metrics exist from the start, at zero.
    fn attach(&self, registry: &crate::Registry) {
        registry.self_metrics().register_own::<super::OtlpEvent>();
    }

    fn watch(&self, s: NewSeries<'_>) -> Option<Box<dyn SeriesHook>> {
        let mut key = String::new();
        series_key(&mut key, s.name, s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.0 .0.lock().insert(key.into_boxed_str(), now_nanos());
        None
    }
}

/// What a receiver last accepted of a delta series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Accepted {
    /// A counter's total.
    Counter(f64),
    /// A histogram's counts per bucket (not cumulative), sum and count.
    Histogram { counts: Vec<u64>, sum: f64, count: u64 },
    /// A base-2 exponential histogram.
    Exponential(crate::ExpHistogramSnapshot),
}

/// One series' memory.
#[derive(Debug)]
pub(crate) struct SeriesState {
    /// When it began.
    pub(crate) start: u64,
    /// The export that last saw it (to forget series that are gone).
    pub(crate) seen: u64,
    /// For delta: what was last accepted, and when (the next delta's start).
    pub(crate) accepted: Option<(Accepted, u64)>,
    /// Its slot in [`States::attributes`].
    pub(crate) id: u32,
}

/// Every series' memory, by [`series_key`].
#[derive(Debug, Default)]
pub(crate) struct States {
    pub(crate) by_key: KeyMap<SeriesState>,
    /// Counts exports, for [`SeriesState::seen`].
    pub(crate) export: u64,
    /// Each series' attributes as OTLP messages, by [`SeriesState::id`]: lent to an export's
    /// points and given back once it is encoded, so an export does not build (and free) two
    /// strings per label of every series again.
    pub(crate) attributes: Vec<Option<Vec<KeyValue>>>,
    /// Slots of forgotten series, for new ones.
    free: Vec<u32>,
    /// Each counter's or gauge's points vector from the last export, emptied, by metric name:
    /// the next export fills it again without growing (or mapping) a new one.
    pub(crate) number_points: std::collections::HashMap<String, Vec<NumberDataPoint>>,
}

impl States {
    /// The state of `key` for this export, and its attributes lent to it (`None`: build them):
    /// a newly born series (or one born again) starts at
    /// its birth, taken from `births`; one first seen without a birth (it existed before the
    /// exporter) starts at `default_start`.
    /// `late` has the births noted since `births` was taken: a series new to this export
    /// and not in `births` was made while the export read, or existed before the exporter.
    pub(crate) fn visit(
        &mut self,
        key: &str,
        births: &mut KeyMap<u64>,
        late: &Births,
        default_start: u64,
    ) -> (&mut SeriesState, Option<Vec<KeyValue>>) {
        let export = self.export;
        let mut born = if births.is_empty() { None } else { births.remove(key) };
        let state = match self.by_key.entry_ref(key) {
            hashbrown::hash_map::EntryRef::Occupied(e) => e.into_mut(),
            hashbrown::hash_map::EntryRef::Vacant(v) => {
                born = born.or_else(|| late.take(key));
                let id = self.free.pop().unwrap_or_else(|| {
                    self.attributes.push(None);
                    u32::try_from(self.attributes.len() - 1).unwrap_or(u32::MAX)
                });
                v.insert(SeriesState { start: born.unwrap_or(default_start), seen: export, accepted: None, id })
            }
        };
        if let Some(born) = born {
            if born != state.start {
                (state.start, state.accepted) = (born, None);
            }
        }
        state.seen = export;
        let attributes = self.attributes.get_mut(state.id as usize).and_then(Option::take);
        (state, attributes)
    }

    /// Forgets the series this export did not see (expired), and starts the next export.
    pub(crate) fn end_export(&mut self) {
        let export = self.export;
        let (attributes, free) = (&mut self.attributes, &mut self.free);
        self.by_key.retain(|_, s| {
            let keep = s.seen == export;
            if !keep {
                if let Some(slot) = attributes.get_mut(s.id as usize) {
                    *slot = None;
                }
                free.push(s.id);
            }
            keep
        });
        self.export += 1;
    }

    /// Takes the attributes back from an encoded request whose points are the series `ids`,
    /// in order.
    pub(crate) fn take_back(&mut self, request: &mut ExportMetricsServiceRequest, ids: &[u32]) {
        let mut ids = ids.iter();
        let mut give = |attrs: &mut Vec<KeyValue>| {
            if let Some(slot) = ids.next().and_then(|id| self.attributes.get_mut(*id as usize)) {
                *slot = Some(std::mem::take(attrs));
            }
        };
        let metrics =
            request.resource_metrics.iter_mut().flat_map(|r| &mut r.scope_metrics).flat_map(|s| &mut s.metrics);
        let mut pool = |name: &str, points: &mut Vec<NumberDataPoint>| {
            points.clear();
            if points.capacity() > 0 {
                self.number_points.insert(name.to_owned(), std::mem::take(points));
            }
        };
        for metric in metrics {
            match &mut metric.data {
                Some(Data::Sum(d)) => {
                    d.data_points.iter_mut().for_each(|p| give(&mut p.attributes));
                    pool(&metric.name, &mut d.data_points);
                }
                Some(Data::Gauge(d)) => {
                    d.data_points.iter_mut().for_each(|p| give(&mut p.attributes));
                    pool(&metric.name, &mut d.data_points);
                }
                Some(Data::Histogram(d)) => d.data_points.iter_mut().for_each(|p| give(&mut p.attributes)),
                Some(Data::ExponentialHistogram(d)) => d.data_points.iter_mut().for_each(|p| give(&mut p.attributes)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_born_again_starts_again() {
        let mut births = KeyMap::default();
        let mut states = States::default();
        births.insert("c\0".into(), 10);
        assert_eq!(states.visit("c\0", &mut births, &Births::default(), 1).0.start, 10);
        states.visit("c\0", &mut births, &Births::default(), 1).0.accepted = Some((Accepted::Counter(5.0), 20));
        states.end_export();
        // Seen again, not reborn: the same start and baseline.
        assert_eq!(states.visit("c\0", &mut births, &Births::default(), 1).0.start, 10);
        assert!(states.visit("c\0", &mut births, &Births::default(), 1).0.accepted.is_some());
        states.end_export();
        // Expired and made again under the same labels.
        births.insert("c\0".into(), 30);
        let s = states.visit("c\0", &mut births, &Births::default(), 1).0;
        assert_eq!((s.start, s.accepted.is_none()), (30, true));
    }

    #[test]
    fn series_gone_are_forgotten() {
        let births = Births::default();
        let mut states = States::default();
        let mut none = KeyMap::default();
        states.visit("a\0", &mut none, &births, 1);
        states.visit("b\0", &mut none, &births, 1);
        states.end_export();
        states.visit("a\0", &mut none, &births, 1);
        states.end_export();
        assert_eq!(states.by_key.len(), 1);
        // Unused births: those from before the export are gone, later ones are kept.
        let unused: KeyMap<u64> = [("gone\0".into(), 5), ("new\0".into(), 7)].into_iter().collect();
        births.give_back(unused, 6);
        let left = births.take_all();
        assert_eq!((left.contains_key("gone\0"), left.contains_key("new\0")), (false, true));
    }
}
