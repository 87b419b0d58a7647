//! The facade's fast path: a cache from a `metrics::Key` (whose hash `metrics` computes when it
//! builds the key) to the series the policy resolved it to. A hit is one read-locked probe;
//! a miss takes the full path (family by name, labels in key order, policy) and fills it.
//! Bounded; cleared by upkeep so that idle series can expire.

use std::sync::Arc;

use hashbrown::HashTable;
use metrics::Key;
use parking_lot::RwLock;

use crate::registry::family::Series;
use crate::registry::MetricKind;
use crate::storage::{CounterCell, GaugeCell, HistogramCell};

/// What a key resolved to; `None` inside means the policy dropped the measurement.
#[derive(Clone)]
pub(crate) enum Cached {
    Counter(Option<Arc<Series<CounterCell>>>),
    Gauge(Option<Arc<Series<GaugeCell>>>),
    Histogram(Option<Arc<Series<HistogramCell>>>),
}

impl Cached {
    pub(crate) fn kind(&self) -> MetricKind {
        match self {
            Self::Counter(_) => MetricKind::Counter,
            Self::Gauge(_) => MetricKind::Gauge,
            Self::Histogram(_) => MetricKind::Histogram,
        }
    }
}

pub(crate) struct FacadeCache {
    table: RwLock<HashTable<(Key, Cached)>>,
    /// Most keys held.
    limit: usize,
    /// Longest name, label key or label value a held key may have, in bytes.
    part_cap: usize,
}

/// The key's hash under the process' seed. `metrics` hashes keys with fixed keys, so label
/// values chosen to collide there would all land in one probe sequence here.
#[inline]
fn seeded_hash(key: &Key) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(*crate::registry::family::SEED).build_hasher();
    h.write(key.name().as_bytes());
    for label in key.labels() {
        h.write_u8(0xff);
        h.write(label.key().as_bytes());
        h.write_u8(0xfe);
        h.write(label.value().as_bytes());
    }
    h.finish()
}

impl FacadeCache {
    pub(crate) fn new(limit: usize, part_cap: usize) -> Self {
        Self { table: RwLock::new(HashTable::new()), limit, part_cap }
    }

    #[inline]
    pub(crate) fn get(&self, key: &Key) -> Option<Cached> {
        let hash = seeded_hash(key);
        self.table.read().find(hash, |(k, _)| k == key).map(|(_, c)| c.clone())
    }

    /// Keeps `key` unless the cache is full or a part of the key is longer than the caps (such
    /// keys take the full path on every call: slower, and bounded in bytes).
    pub(crate) fn insert(&self, key: &Key, value: Cached) {
        let cap = self.part_cap;
        if key.name().len() > cap || key.labels().any(|l| l.key().len() > cap || l.value().len() > cap) {
            return;
        }
        let hash = seeded_hash(key);
        let mut table = self.table.write();
        if table.len() < self.limit && table.find(hash, |(k, _)| k == key).is_none() {
            table.insert_unique(hash, (key.clone(), value), |(k, _)| seeded_hash(k));
        }
    }

    pub(crate) fn clear(&self) {
        self.table.write().clear();
    }
}
