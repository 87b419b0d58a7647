//! The facade's fast path: a cache from a `metrics::Key` (whose hash `metrics` computes when it
//! builds the key) to the series the policy resolved it to. A hit is one read-locked probe;
//! a miss takes the full path (family by name, labels in key order, policy) and fills it.
//! Bounded. The recorder owns it. It holds series weakly, so it never keeps an idle series
//! from expiring (a key whose series expired is a miss, and resolves a fresh one), and it
//! empties itself when the registry's upkeep has removed series (the registry's expiry
//! generation changed), which frees what the dead entries held.

use std::sync::{Arc, Weak};

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

/// What the table holds: the same, weakly.
enum Held {
    Counter(Option<Weak<Series<CounterCell>>>),
    Gauge(Option<Weak<Series<GaugeCell>>>),
    Histogram(Option<Weak<Series<HistogramCell>>>),
}

/// `None` when the series is gone; `Some(None)` when the policy dropped the measurement.
fn upgrade<C>(w: &Option<Weak<Series<C>>>) -> Option<Option<Arc<Series<C>>>> {
    match w {
        None => Some(None),
        Some(w) => w.upgrade().map(Some),
    }
}

impl Held {
    fn of(c: &Cached) -> Self {
        match c {
            Cached::Counter(s) => Self::Counter(s.as_ref().map(Arc::downgrade)),
            Cached::Gauge(s) => Self::Gauge(s.as_ref().map(Arc::downgrade)),
            Cached::Histogram(s) => Self::Histogram(s.as_ref().map(Arc::downgrade)),
        }
    }

    fn get(&self) -> Option<Cached> {
        Some(match self {
            Self::Counter(w) => Cached::Counter(upgrade(w)?),
            Self::Gauge(w) => Cached::Gauge(upgrade(w)?),
            Self::Histogram(w) => Cached::Histogram(upgrade(w)?),
        })
    }
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
    table: RwLock<HashTable<(Key, Held)>>,
    /// The registry's expiry generation the entries were resolved under.
    generation: std::sync::atomic::AtomicU64,
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
        Self { table: RwLock::new(HashTable::new()), generation: Default::default(), limit, part_cap }
    }

    /// The series `key` resolved to, if cached under the registry's current `generation`.
    #[inline]
    pub(crate) fn get(&self, key: &Key, generation: u64) -> Option<Cached> {
        use std::sync::atomic::Ordering;
        if self.generation.load(Ordering::Relaxed) != generation {
            self.table.write().clear();
            self.generation.store(generation, Ordering::Relaxed);
            return None;
        }
        let hash = key.get_hash();
        self.table.read().find(hash, |(k, _)| k == key).and_then(|(_, held)| held.get())
    }

    /// Keeps `key`, resolved under `resolved_at` (the expiry generation when its lookup began),
    /// unless upkeep has removed series since (`now` differs: it may be one of them), the cache
    /// is full, a part of the key is longer than the caps, or its probe already meets
    /// [`MAX_CANDIDATES`] keys (such keys take the full path on every call: slower, and bounded
    /// in bytes and in comparisons).
    pub(crate) fn insert(&self, key: &Key, value: &Cached, resolved_at: u64, now: u64) {
        if resolved_at != now {
            return;
        }
        let cap = self.part_cap;
        if key.name().len() > cap || key.labels().any(|l| l.key().len() > cap || l.value().len() > cap) {
            return;
        }
        let hash = key.get_hash();
        let mut table = self.table.write();
        if self.generation.load(std::sync::atomic::Ordering::Relaxed) != resolved_at {
            return;
        }
        let mut candidates = 0;
        let present = table
            .find(hash, |(k, _)| {
                candidates += 1;
                k == key
            })
            .is_some();
        if !present && candidates < MAX_CANDIDATES && table.len() < self.limit {
            table.insert_unique(hash, (key.clone(), Held::of(value)), |(k, _)| k.get_hash());
        }
    }
}
