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

/// Most keys one lookup may be compared with. `metrics` hashes a key once, when it is built,
/// with fixed public secrets, so keys can be crafted to collide. Hashing again with the
/// process' seed would cost every facade call about 15 ns (measured: 64 → 78 ns per call);
/// instead, a key whose probe meets this many candidates is not cached, so a collision flood
/// costs each lookup at most this many comparisons. The family tables behind the cache hash
/// with the process' seed.
const MAX_CANDIDATES: usize = 8;

impl FacadeCache {
    pub(crate) fn new(limit: usize, part_cap: usize) -> Self {
        Self { table: RwLock::new(HashTable::new()), limit, part_cap }
    }

    #[inline]
    pub(crate) fn get(&self, key: &Key) -> Option<Cached> {
        let hash = key.get_hash();
        self.table.read().find(hash, |(k, _)| k == key).map(|(_, c)| c.clone())
    }

    /// Keeps `key` unless the cache is full, a part of the key is longer than the caps, or
    /// its probe already meets [`MAX_CANDIDATES`] keys (such keys take the full path on every
    /// call: slower, and bounded in bytes and in comparisons).
    pub(crate) fn insert(&self, key: &Key, value: Cached) {
        let cap = self.part_cap;
        if key.name().len() > cap || key.labels().any(|l| l.key().len() > cap || l.value().len() > cap) {
            return;
        }
        let hash = key.get_hash();
        let mut table = self.table.write();
        let mut candidates = 0;
        let present = table
            .find(hash, |(k, _)| {
                candidates += 1;
                k == key
            })
            .is_some();
        if !present && candidates < MAX_CANDIDATES && table.len() < self.limit {
            table.insert_unique(hash, (key.clone(), value), |(k, _)| k.get_hash());
        }
    }

    pub(crate) fn clear(&self) {
        self.table.write().clear();
    }
}
