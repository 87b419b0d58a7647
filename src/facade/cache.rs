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
    limit: usize,
}

impl FacadeCache {
    pub(crate) fn new(limit: usize) -> Self {
        Self { table: RwLock::new(HashTable::new()), limit }
    }

    #[inline]
    pub(crate) fn get(&self, key: &Key) -> Option<Cached> {
        let hash = key.get_hash();
        self.table.read().find(hash, |(k, _)| k == key).map(|(_, c)| c.clone())
    }

    pub(crate) fn insert(&self, key: &Key, value: Cached) {
        let hash = key.get_hash();
        let mut table = self.table.write();
        if table.len() < self.limit && table.find(hash, |(k, _)| k == key).is_none() {
            table.insert_unique(hash, (key.clone(), value), |(k, _)| k.get_hash());
        }
    }

    pub(crate) fn clear(&self) {
        self.table.write().clear();
    }
}
