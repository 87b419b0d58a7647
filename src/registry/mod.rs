//! The registry: metric families by name, the policy they pass, global labels, a name prefix
//! and idle-series expiry. Cheap to clone; every clone is the same registry.

mod builder;
mod clock;
mod collect;
mod descriptor;
pub(crate) mod family;
mod label_hash;
mod labels;
mod observer;
mod record;
mod register;
mod self_metrics;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

pub use builder::RegistryBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
pub use collect::MAX_COLLECTORS;
pub use descriptor::{Descriptor, MetricKind, Unit};
#[allow(unused_imports)] // by the StatsD backend, when compiled in
pub(crate) use family::Series;
pub(crate) use labels::MAX_PART_LEN;
pub use labels::{LabelPairs, SeriesLabels};
pub use observer::{NewSeries, SeriesEvent, SeriesHook, SeriesObserver, SeriesRef};
pub use register::{MetricOpts, MAX_HELP_LEN};
#[allow(unused_imports)] // used by the backends, when any is compiled in
pub(crate) use self_metrics::self_events;
pub(crate) use self_metrics::Group;
pub use self_metrics::{Event, SelfCount, SelfCounters, SelfMetrics, SelfReason, SELF_PREFIX};

use crate::policy::Policy;
use crate::storage::{Buckets, CounterCell, GaugeCell, HistogramCell};
use family::Family;

/// Default limit on metric families in one registry.
pub const DEFAULT_MAX_FAMILIES: usize = 10_000;

/// What every family of a registry shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) policy: Policy,
    pub(crate) events: Arc<SelfMetrics>,
    pub(crate) total: AtomicUsize,
    /// Raw-key cache entries across all families (bounded at twice the total series limit).
    pub(crate) cached_keys: AtomicUsize,
    pub(crate) clock: Arc<dyn Clock>,
    /// A no-op registry: every handle records nothing.
    pub(crate) disabled: bool,
    /// What watches new series for their single events (see [`observer`]), usually nothing.
    pub(crate) observers: Box<[Arc<dyn SeriesObserver>]>,
    /// The global labels, for observers.
    pub(crate) global_pairs: Box<[(String, String)]>,
}

/// A family of any type.
#[derive(Clone)]
pub(crate) enum FamilyRef {
    Counter(Arc<Family<CounterCell>>),
    Gauge(Arc<Family<GaugeCell>>),
    Histogram(Arc<Family<HistogramCell>>),
}

impl FamilyRef {
    pub(crate) fn desc(&self) -> &Arc<Descriptor> {
        match self {
            Self::Counter(f) => &f.desc,
            Self::Gauge(f) => &f.desc,
            Self::Histogram(f) => &f.desc,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Counter(f) => f.len(),
            Self::Gauge(f) => f.len(),
            Self::Histogram(f) => f.len(),
        }
    }

    fn expire(&self, now: Duration, idle: Duration) -> usize {
        match self {
            Self::Counter(f) => f.expire(now, idle),
            Self::Gauge(f) => f.expire(now, idle),
            Self::Histogram(f) => f.expire(now, idle),
        }
    }
}

/// Help and unit given by `describe_*!` for a facade name.
pub(crate) type Description = (Arc<str>, Option<Unit>);

#[derive(Default)]
pub(crate) struct Families {
    /// By exposed base name; a `BTreeMap` so rendering order is stable.
    pub(crate) by_name: BTreeMap<Box<str>, FamilyRef>,
    /// Every sample name a family renders (`x`, `x_total`, `x_bucket`, …) → its base name.
    pub(crate) claimed: HashMap<Box<str>, Box<str>>,
    /// Families the facade created (bounded apart, see `RegistryBuilder::max_facade_families`).
    pub(crate) facade_created: usize,
}

pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) families: RwLock<Families>,
    /// Facade names as written in the macro → family (or `None`: refused), for one lookup per call.
    pub(crate) facade: RwLock<HashMap<Box<str>, Option<FamilyRef>>>,
    pub(crate) descriptions: Mutex<HashMap<Box<str>, Description>>,
    pub(crate) prefix: Box<str>,
    pub(crate) global_pairs: Vec<(String, String)>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) default_buckets: Buckets,
    pub(crate) buckets_by_prefix: Vec<(String, Buckets)>,
    pub(crate) max_families: usize,
    /// Of those, the most the facade may create.
    pub(crate) max_facade_families: usize,
    /// The facade's key → series cache.
    /// Bumped whenever upkeep removes series: whoever holds series (the facade's cache) drops
    /// what it holds when it changes.
    pub(crate) expiry_generation: std::sync::atomic::AtomicU64,
    /// Callbacks run before each read ([`Registry::register_collector`]).
    pub(crate) collectors: RwLock<Arc<[collect::CollectFn]>>,
    /// Whether the process metrics are registered (feature `process`).
    #[cfg_attr(not(feature = "process"), allow(dead_code))]
    pub(crate) process_registered: std::sync::atomic::AtomicBool,
}

/// The registry every metric is recorded in. Clones share state.
///
/// ```
/// use codomyrmex_metrics::Registry;
/// let registry = Registry::default();
/// let hits = registry.counter("cache_hits", "Cache hits.").unwrap();
/// hits.inc();
/// assert_eq!(hits.value(), 1.0);
/// ```
#[derive(Clone)]
pub struct Registry {
    pub(crate) inner: Arc<Inner>,
}

impl Default for Registry {
    fn default() -> Self {
        RegistryBuilder::default().build()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("prefix", &self.inner.prefix)
            .field("families", &self.inner.families.read().by_name.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A builder for a registry with a policy, prefix, global labels or expiry.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// The policy this registry enforces.
    pub fn policy(&self) -> &Policy {
        &self.inner.shared.policy
    }

    /// The registry's self-metrics.
    pub fn self_metrics(&self) -> &SelfMetrics {
        &self.inner.shared.events
    }

    /// Series currently held, across all families (overflow series not included).
    pub fn series_count(&self) -> usize {
        self.inner.families.read().by_name.values().map(FamilyRef::len).sum()
    }

    /// Runs periodic work: removes idle series when an idle timeout is set. Renders call it.
    /// Returns how many series expired.
    pub fn run_upkeep(&self) -> usize {
        let Some(idle) = self.inner.idle_timeout else { return 0 };
        let now = self.inner.shared.clock.now();
        let expired = self.inner.families.read().by_name.values().map(|f| f.expire(now, idle)).sum();
        if expired > 0 {
            self.inner.expiry_generation.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        expired
    }

    /// Changes whenever upkeep removed series (see [`Self::run_upkeep`]).
    pub(crate) fn expiry_generation(&self) -> u64 {
        self.inner.expiry_generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The facade's cache bounds: most keys, and the longest part a cached key may have.
    pub(crate) fn facade_cache_bounds(&self) -> (usize, usize) {
        let p = &self.inner.shared.policy;
        (p.max_series_total().saturating_mul(2), p.max_label_value_len().max(crate::policy::validate::MAX_NAME_LEN))
    }

    /// The bucket layout for a histogram named `name` without explicit buckets: the longest
    /// configured prefix match, else the registry default.
    pub fn buckets_for(&self, name: &str) -> Buckets {
        self.inner
            .buckets_by_prefix
            .iter()
            .filter(|(p, _)| name.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map_or_else(|| self.inner.default_buckets.clone(), |(_, b)| b.clone())
    }

    /// Runs the collectors, then visits every family in name order (for encoders and exporters).
    pub(crate) fn with_families<R>(&self, f: impl FnOnce(&Families) -> R) -> R {
        self.collect();
        f(&self.inner.families.read())
    }
}
