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
    /// Its identity ([`series_key`]).
    key: Box<str>,
    /// When it began.
    pub(crate) start: u64,
    /// The export that last saw it (to forget series that are gone).
    pub(crate) seen: u64,
    /// For delta: what was last accepted, and when (the next delta's start).
    pub(crate) accepted: Option<(Accepted, u64)>,
    /// Its slot in [`States`].
    pub(crate) id: u32,
    /// Its place in the last export's order.
    position: u32,
    /// Its attributes as OTLP messages: lent to an export's point and given back once the
    /// request is encoded, so an export does not build (and free) two strings per label of
    /// every series again.
    attributes: Option<Vec<KeyValue>>,
}

/// Every series' memory, in slots by id. An export reads the series in the registry's order,
/// which changes only where series come and go, so each is first looked for where the last
/// export met it (a comparison in sequence); the hash index is for the others. A lookup by
/// hash took half of an export of 100,000 series (a cache miss or two each).
#[derive(Debug, Default)]
pub(crate) struct States {
    slots: Vec<Option<SeriesState>>,
    /// Ids, by their series' key.
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    free: Vec<u32>,
    /// The ids in the last export's order, where this one expects them, and this one's.
    last_order: Vec<u32>,
    cursor: usize,
    order: Vec<u32>,
    /// Counts exports, for [`SeriesState::seen`].
    pub(crate) export: u64,
}

impl States {
    fn hash(&self, key: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    fn key_of(&self, id: u32) -> Option<&str> {
        self.slots.get(id as usize).and_then(Option::as_ref).map(|s| &*s.key)
    }

    /// The id of `key`, if known: where the last export met the next series, or by hash.
    fn find(&mut self, key: &str) -> Option<u32> {
        for ahead in 0..2 {
            if let Some(&id) = self.last_order.get(self.cursor + ahead) {
                if self.key_of(id) == Some(key) {
                    self.cursor += ahead + 1;
                    return Some(id);
                }
            }
        }
        let hash = self.hash(key);
        let slots = &self.slots;
        let id = *self
            .index
            .find(hash, |&id| slots.get(id as usize).and_then(Option::as_ref).is_some_and(|s| &*s.key == key))?;
        // Met out of place: the series after it are likely next, as they were.
        if let Some(s) = self.slots.get(id as usize).and_then(Option::as_ref) {
            self.cursor = s.position as usize + 1;
        }
        Some(id)
    }

    /// The state of `key` for this export, and its attributes lent to it (`None`: build them):
    /// a newly born series (or one born again) starts at its birth, taken from `births`; one
    /// first seen without a birth (it existed before the exporter) starts at `default_start`.
    /// `late` has the births noted since `births` was taken: a series new to this export and
    /// not in `births` was made while the export read, or existed before the exporter.
    pub(crate) fn visit(
        &mut self,
        key: &str,
        births: &mut KeyMap<u64>,
        late: &Births,
        default_start: u64,
    ) -> (&mut SeriesState, Option<Vec<KeyValue>>) {
        let export = self.export;
        let mut born = if births.is_empty() { None } else { births.remove(key) };
        let id = match self.find(key) {
            Some(id) => id,
            None => {
                born = born.or_else(|| late.take(key));
                let id = self.free.pop().unwrap_or_else(|| {
                    self.slots.push(None);
                    u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
                });
                let state = SeriesState {
                    key: key.into(),
                    start: born.unwrap_or(default_start),
                    seen: export,
                    accepted: None,
                    id,
                    position: 0,
                    attributes: None,
                };
                if let Some(slot) = self.slots.get_mut(id as usize) {
                    *slot = Some(state);
                }
                let hash = self.hash(key);
                let (slots, hasher) = (&self.slots, &self.hasher);
                self.index.insert_unique(hash, id, |&id| {
                    use std::hash::BuildHasher;
                    slots.get(id as usize).and_then(Option::as_ref).map_or(0, |s| hasher.hash_one(&*s.key))
                });
                id
            }
        };
        let position = u32::try_from(self.order.len()).unwrap_or(u32::MAX);
        self.order.push(id);
        let Some(Some(state)) = self.slots.get_mut(id as usize) else {
            unreachable!("an id found or made above has its slot")
        };
        if let Some(born) = born {
            if born != state.start {
                (state.start, state.accepted) = (born, None);
            }
        }
        state.seen = export;
        state.position = position;
        let attributes = state.attributes.take();
        (state, attributes)
    }

    /// The state in slot `id` (a series seen by the current export).
    pub(crate) fn get_mut(&mut self, id: u32) -> Option<&mut SeriesState> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Forgets the series this export did not see (expired), and starts the next export.
    pub(crate) fn end_export(&mut self) {
        let export = self.export;
        for id in 0..self.slots.len() {
            let gone = self.slots[id].as_ref().is_some_and(|s| s.seen != export);
            if gone {
                if let Some(s) = self.slots[id].take() {
                    let hash = self.hash(&s.key);
                    if let Ok(entry) = self.index.find_entry(hash, |&i| i as usize == id) {
                        entry.remove();
                    }
                    self.free.push(s.id);
                }
            }
        }
        self.last_order = std::mem::take(&mut self.order);
        self.cursor = 0;
        self.export += 1;
    }

    /// How many series it remembers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Whether every remembered series has its attributes back.
    #[cfg(test)]
    pub(crate) fn all_attributes_back(&self) -> bool {
        self.slots.iter().flatten().all(|s| s.attributes.is_some())
    }

    /// Takes the attributes back from an encoded request whose points are the series `ids`,
    /// in order.
    pub(crate) fn take_back(&mut self, request: &mut ExportMetricsServiceRequest, ids: &[u32]) {
        let mut ids = ids.iter();
        let slots = &mut self.slots;
        let mut give = |attrs: &mut Vec<KeyValue>| {
            if let Some(s) = ids.next().and_then(|id| slots.get_mut(*id as usize)).and_then(Option::as_mut) {
                s.attributes = Some(std::mem::take(attrs));
            }
        };
        let metrics =
            request.resource_metrics.iter_mut().flat_map(|r| &mut r.scope_metrics).flat_map(|s| &mut s.metrics);
        for metric in metrics {
            match &mut metric.data {
                Some(Data::Sum(d)) => d.data_points.iter_mut().for_each(|p| give(&mut p.attributes)),
                Some(Data::Gauge(d)) => d.data_points.iter_mut().for_each(|p| give(&mut p.attributes)),
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

    /// Series met in another order, new ones among them and some gone, keep their own state.
    #[test]
    fn each_series_keeps_its_state_whatever_comes_and_goes() {
        let mut states = States::default();
        let late = Births::default();
        let first = ["a", "b", "c", "d", "e"];
        for (i, k) in first.iter().enumerate() {
            let mut births: KeyMap<u64> = [((*k).into(), 100 + i as u64)].into_iter().collect();
            assert_eq!(states.visit(k, &mut births, &late, 1).0.start, 100 + i as u64);
        }
        states.end_export();
        let mut none = KeyMap::default();
        // c is gone; x and y are new, one between known series, one first; e comes before d.
        let second = ["y", "a", "x", "b", "e", "d"];
        let starts: Vec<u64> = second.iter().map(|k| states.visit(k, &mut none, &late, 7).0.start).collect();
        assert_eq!(starts, vec![7, 100, 7, 101, 104, 103]);
        states.end_export();
        assert_eq!(states.len(), 6);
        // The next export in the same order finds each where it was.
        let again: Vec<u64> = second.iter().map(|k| states.visit(k, &mut none, &late, 9).0.start).collect();
        assert_eq!(again, starts);
        states.end_export();
        let gone: Vec<u64> = ["a", "d"].iter().map(|k| states.visit(k, &mut none, &late, 9).0.start).collect();
        assert_eq!(gone, vec![100, 103]);
        states.end_export();
        assert_eq!(states.len(), 2);
        // A forgotten series met again is new.
        assert_eq!(states.visit("b", &mut none, &late, 11).0.start, 11);
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
        assert_eq!(states.len(), 1);
        // Unused births: those from before the export are gone, later ones are kept.
        let unused: KeyMap<u64> = [("gone\0".into(), 5), ("new\0".into(), 7)].into_iter().collect();
        births.give_back(unused, 6);
        let left = births.take_all();
        assert_eq!((left.contains_key("gone\0"), left.contains_key("new\0")), (false, true));
    }
}
