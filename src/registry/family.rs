//! A metric family's series table.
//!
//! One hash table holds each series under its final label set (its identity, see
//! [`labels`]); a second holds the caller's raw label values where they differ from the label
//! set they resolve to (so several raw spellings that the policy maps to one label set share
//! one series, and a repeated lookup skips the policy). A raw key equal to its final label set,
//! the usual case, is found in the first table. Reads take a read lock; a miss runs the policy
//! outside any lock, then takes the write lock once.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};
use hashbrown::HashTable;
use parking_lot::Mutex;

use super::descriptor::Descriptor;
pub(crate) use super::label_hash::hash_parts;
use super::labels::{self, hash_body, Role, SeriesLabels};
use super::{Event, Shared};
use crate::error::PolicyError;
use crate::policy::cardinality::{self, Overflow, OVERFLOW_LABEL};

/// A cell plus what a handle needs to report refused values. In declaration order (`repr(C)`):
/// the cell and the hooks every recording reads come first, the key only lookups read last.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Series<C> {
    pub(crate) cell: C,
    desc: Arc<Descriptor>,
    /// The hooks of the observers that watch it (see [`super::observer`]); `None` for most.
    /// Kept in the series, next to the cell: every recording reads it, and through a pointer
    /// shared by the family it cost two threads on one counter 22.0 ns each instead of 13.4.
    pub(crate) hooks: Option<Box<super::observer::Hooks>>,
    /// Its identity: the final label pairs (see [`labels`]), with the role [`Role::Both`] when
    /// the raw values it was made from were these very labels, else [`Role::Labels`].
    key: Box<str>,
}

impl<C> Series<C> {
    /// The family's descriptor.
    #[inline]
    pub(crate) fn desc(&self) -> &Descriptor {
        &self.desc
    }
}

/// What every cell type offers the family.
pub(crate) trait Cell: Send + Sync + 'static {
    /// Changes whenever the value changes (idle expiry compares it between sweeps).
    fn fingerprint(&self) -> u64;
    /// A counter's total or a gauge's value; `None` for a histogram.
    fn current(&self) -> Option<f64>;
}

impl Cell for crate::storage::CounterCell {
    fn fingerprint(&self) -> u64 {
        crate::storage::CounterCell::fingerprint(self)
    }
    fn current(&self) -> Option<f64> {
        Some(self.value())
    }
}
impl Cell for crate::storage::GaugeCell {
    fn fingerprint(&self) -> u64 {
        crate::storage::GaugeCell::fingerprint(self)
    }
    fn current(&self) -> Option<f64> {
        Some(self.value())
    }
}
impl Cell for crate::storage::HistogramCell {
    fn fingerprint(&self) -> u64 {
        crate::storage::HistogramCell::fingerprint(self)
    }
    fn current(&self) -> Option<f64> {
        None
    }
}

/// A final label pair: borrowed from the caller where the policy left it alone.
type LabelPair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Raw label values that differ from the label set they resolve to, and what they resolve to
/// (`None`: the policy dropped the measurement).
struct Alias<C> {
    key: Box<str>,
    target: Option<Arc<Series<C>>>,
}

/// A family's series copied out by [`Family::snapshot`]: a pointer each (a series holds its
/// own labels).
pub(crate) struct Snapshot<C> {
    desc: Arc<Descriptor>,
    series: Vec<Arc<Series<C>>>,
    overflow: Option<Arc<Series<C>>>,
}

impl<C> Snapshot<C> {
    /// Each series' labels and the series, the overflow series last.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (SeriesLabels<'_>, &Series<C>)> {
        let keys = self.desc.keys.as_deref();
        let series = self.series.iter().map(move |s| (SeriesLabels::new(keys, labels::body(&s.key)), &**s));
        series.chain(self.overflow.iter().map(|ov| (overflow_labels(ov), &**ov)))
    }
}

/// The overflow series' labels: its key holds its key, as a facade family's do.
fn overflow_labels<C>(ov: &Series<C>) -> SeriesLabels<'_> {
    SeriesLabels::new(None, labels::body(&ov.key))
}

/// What idle expiry remembers of a series between sweeps; kept only when expiry runs.
#[derive(Clone, Copy)]
struct Seen {
    fingerprint: u64,
    /// Clock reading (nanoseconds) when the fingerprint last changed.
    since: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

struct Table<C> {
    /// The series (the overflow series not included), by their labels: a raw key equal to a
    /// series' labels, the usual case, needs no entry of its own.
    series: HashTable<Arc<Series<C>>>,
    /// Raw keys of their own (bounded: see [`Family::resolve`]).
    aliases: HashTable<Alias<C>>,
    overflow: Option<Arc<Series<C>>>,
    generation: u64,
    /// By series address, filled by the first expiry sweep.
    seen: HashMap<usize, Seen>,
}

impl<C> Table<C> {
    /// The series or alias for a raw key.
    #[inline]
    fn find_raw(&self, hash: u64, raw: &[&str]) -> Option<Option<&Arc<Series<C>>>> {
        if let Some(s) =
            self.series.find(hash, |s| labels::role(&s.key) == Role::Both && labels::eq_raw(labels::body(&s.key), raw))
        {
            return Some(Some(s));
        }
        if self.aliases.is_empty() {
            return None;
        }
        self.aliases.find(hash, |a| labels::eq_raw(labels::body(&a.key), raw)).map(|a| a.target.as_ref())
    }

    fn insert_alias(&mut self, key: Box<str>, target: Option<Arc<Series<C>>>) {
        let hash = hash_body(labels::body(&key));
        self.aliases.insert_unique(hash, Alias { key, target }, |a| hash_body(labels::body(&a.key)));
    }
}

/// One metric family: its descriptor and its series.
pub(crate) struct Family<C> {
    pub(crate) desc: Arc<Descriptor>,
    shared: Arc<Shared>,
    /// Sharded by thread: a lookup locks its thread's shard only, so threads looking up in one
    /// family write no cache line in common (one `RwLock` word, written by every reader, made
    /// two threads 1.3x slower each than `measured`). A new series locks every shard.
    table: ShardedLock<Table<C>>,
    /// Bucket indices of the series entries in label order, and the generation they are for.
    order: Mutex<(u64, Vec<u32>)>,
    new_cell: Box<dyn Fn() -> C + Send + Sync>,
}

impl<C: Cell> Family<C> {
    pub(crate) fn new(desc: Arc<Descriptor>, shared: Arc<Shared>, new_cell: Box<dyn Fn() -> C + Send + Sync>) -> Self {
        Self {
            desc,
            shared,
            table: ShardedLock::new(Table {
                series: HashTable::new(),
                aliases: HashTable::new(),
                overflow: None,
                generation: 0,
                seen: HashMap::new(),
            }),
            order: Mutex::new((u64::MAX, Vec::new())),
            new_cell,
        }
    }

    /// The table, for reading (a poisoned lock is still read: the table is consistent after
    /// every statement that can panic).
    #[inline]
    fn read(&self) -> ShardedLockReadGuard<'_, Table<C>> {
        self.table.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> ShardedLockWriteGuard<'_, Table<C>> {
        self.table.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The one lookup: a read-locked probe of the table for a raw key, else the policy. `f`
    /// gets the series, or `None` when the registry is disabled or the policy dropped the
    /// measurement.
    #[inline]
    fn probe<R>(&self, raw: &[&str], f: impl FnOnce(Option<&Arc<Series<C>>>) -> R) -> R {
        self.probe_hashed(hash_parts(raw), raw, f)
    }

    /// [`Self::probe`] with `hash_parts(raw)` already computed: families are hashed alike, so
    /// a caller recording one label set in several families hashes it once.
    #[inline]
    fn probe_hashed<R>(&self, hash: u64, raw: &[&str], f: impl FnOnce(Option<&Arc<Series<C>>>) -> R) -> R {
        if self.shared.disabled {
            return f(None);
        }
        {
            let table = self.read();
            if let Some(target) = table.find_raw(hash, raw) {
                return f(target);
            }
            // Full: a label set never seen before goes to the overflow series without the
            // policy or the write lock, so a flood of new values costs each call a probe.
            if let Some(ov) = &table.overflow {
                if let Some(event) = self.full(table.series.len()) {
                    self.shared.events.record(event);
                    return f(Some(ov));
                }
            }
        }
        f(self.resolve(hash, raw, None).as_ref())
    }

    /// Which limit a new series would pass, if any: the metric's, then the registry's.
    #[inline]
    fn full(&self, in_metric: usize) -> Option<Event> {
        let policy = &self.shared.policy;
        if in_metric >= policy.series_limit(&self.desc.policy_name) {
            Some(Event::OverflowMetric)
        } else if self.shared.total.load(Ordering::Relaxed) >= policy.max_series_total() {
            Some(Event::OverflowGlobal)
        } else {
            None
        }
    }

    /// Runs `f` on the series for `raw` (values in schema order, or sorted `k, v` pairs for a
    /// dynamic family). `None` when the measurement was dropped by the policy.
    #[inline]
    pub(crate) fn with_series<R>(&self, raw: &[&str], f: impl FnOnce(&Series<C>) -> R) -> Option<R> {
        self.probe(raw, |s| s.map(|s| f(s)))
    }

    /// [`Self::with_series`] with `hash == hash_parts(raw)`.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn with_series_hashed<R>(&self, hash: u64, raw: &[&str], f: impl FnOnce(&Series<C>) -> R) -> Option<R> {
        self.probe_hashed(hash, raw, |s| s.map(|s| f(s)))
    }

    /// The series for `raw`, cloned for a handle.
    pub(crate) fn get(&self, raw: &[&str]) -> Option<Arc<Series<C>>> {
        self.probe(raw, |s| s.cloned())
    }

    /// Like [`Self::get`], but every policy change to the label set is returned as errors.
    pub(crate) fn try_get(&self, raw: &[&str]) -> Result<Option<Arc<Series<C>>>, Vec<PolicyError>> {
        let mut errors = Vec::new();
        if let Some(keys) = &self.desc.keys {
            if keys.len() != raw.len() {
                errors.push(PolicyError::Arity {
                    metric: self.desc.policy_name.to_string(),
                    expected: keys.len(),
                    got: raw.len(),
                });
            }
        }
        let got = self.resolve(hash_parts(raw), raw, Some(&mut errors));
        if let Some(s) = &got {
            let table = self.read();
            let overflowed = table.overflow.as_ref().is_some_and(|o| Arc::ptr_eq(o, s));
            if overflowed && !errors.iter().any(|e| matches!(e, PolicyError::Overflow { .. })) {
                errors.push(PolicyError::Overflow { metric: self.desc.policy_name.to_string(), reason: "overflow" });
            }
        }
        if errors.is_empty() {
            Ok(got)
        } else {
            Err(errors)
        }
    }

    fn pairs_of<'a>(&'a self, raw: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        match &self.desc.keys {
            Some(keys) => {
                if keys.len() != raw.len() {
                    self.shared.events.record(Event::Arity);
                }
                // Missing values are empty; extra values are ignored.
                keys.iter().enumerate().map(|(i, k)| (&**k, raw.get(i).copied().unwrap_or_default())).collect()
            }
            None => raw.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect(),
        }
    }

    /// The key of a final label set: the values by declared key (a removed key is `None`),
    /// or every key and value of a facade family.
    fn final_key(&self, pairs: &[LabelPair<'_>]) -> Option<Box<str>> {
        match &self.desc.keys {
            Some(keys) => {
                let mut rest = pairs.iter().peekable();
                let values = keys.iter().map(|k| rest.next_if(|(pk, _)| **pk == **k).map(|(_, v)| &**v));
                labels::encode(Role::Labels, values.collect::<Vec<_>>())
            }
            None => labels::encode(Role::Labels, pairs.iter().flat_map(|(k, v)| [Some(&**k), Some(&**v)])),
        }
    }

    #[cold]
    fn resolve(&self, hash: u64, raw: &[&str], mut errors: Option<&mut Vec<PolicyError>>) -> Option<Arc<Series<C>>> {
        let shared = &*self.shared;
        let metric = &*self.desc.policy_name;
        let mut report = |event: Event, key: &str| {
            shared.events.record(event);
            // Never the value: it may be the very secret the policy kept out.
            tracing::debug!(metric, key, family = event.family(), reason = event.reason(), "label policy event");
            if let Some(errs) = errors.as_deref_mut() {
                errs.push(policy_error(metric, event, key));
            }
        };
        let dynamic = self.desc.keys.is_none();
        let mut final_pairs = shared.policy.apply_labels(metric, &self.pairs_of(raw), dynamic, &mut report);
        let final_key = final_pairs.as_deref().and_then(|p| self.final_key(p));
        if final_pairs.is_some() && final_key.is_none() {
            // Longer than a key can hold; the policy caps values well below it.
            report(Event::SeriesDropped, "");
            final_pairs = None;
        }
        let mut table = self.write();
        let table = &mut *table;
        if let Some(target) = table.find_raw(hash, raw) {
            return target.cloned();
        }
        // Raw keys of their own (raw values that differ from the label set they resolve to)
        // are bounded per family and in total; past either bound such a miss runs the policy
        // each time: slower, still correct, and memory stays bounded.
        let raw_limit = shared.policy.series_limit(metric).saturating_mul(2).max(16);
        let total_limit = shared.policy.max_series_total().saturating_mul(2);
        // Only raw values within the caps are kept: a 10 KB value is resolved again on each
        // call rather than stored, so the cache's bytes are bounded as well as its entries.
        let part_cap = shared.policy.max_label_value_len().max(crate::policy::validate::MAX_NAME_LEN);
        let cache = table.aliases.len() < raw_limit
            && shared.cached_keys.load(Ordering::Relaxed) < total_limit
            && raw.iter().all(|p| p.len() <= part_cap);
        let mut raw_is_final = false;
        let target = match (&final_pairs, final_key) {
            (Some(pairs), Some(mut key)) => {
                let body = labels::body(&key);
                raw_is_final = labels::eq_raw(body, raw);
                let lh = hash_body(body);
                match table.series.find(lh, |s| labels::body(&s.key) == body) {
                    // A series made from other raw values: these get an alias below.
                    Some(s) => {
                        raw_is_final &= labels::role(&s.key) == Role::Both;
                        Some(Arc::clone(s))
                    }
                    None => {
                        let limit = shared.policy.series_limit(metric);
                        let max_total = shared.policy.max_series_total();
                        match cardinality::admit(table.series.len(), limit, &shared.total, max_total) {
                            Ok(()) => {
                                if raw_is_final {
                                    labels::mark_raw(&mut key);
                                }
                                let series = self.new_series(pairs, key);
                                table
                                    .series
                                    .insert_unique(lh, Arc::clone(&series), |s| hash_body(labels::body(&s.key)));
                                table.generation += 1;
                                Some(series)
                            }
                            Err(which) => {
                                raw_is_final = false;
                                let event = match which {
                                    Overflow::Metric => Event::OverflowMetric,
                                    Overflow::Global => Event::OverflowGlobal,
                                };
                                report(event, "");
                                let ov = table.overflow.get_or_insert_with(|| {
                                    let pairs = [(Cow::Borrowed(OVERFLOW_LABEL), Cow::Borrowed("true"))];
                                    self.new_series(&pairs, labels::overflow_key().into())
                                });
                                Some(Arc::clone(ov))
                            }
                        }
                    }
                }
            }
            _ => None,
        };
        if cache && !raw_is_final {
            if let Some(key) = labels::encode(Role::Raw, raw.iter().map(|p| Some(*p))) {
                shared.cached_keys.fetch_add(1, Ordering::Relaxed);
                table.insert_alias(key, target.clone());
            }
        }
        target
    }

    fn new_series(&self, pairs: &[LabelPair<'_>], key: Box<str>) -> Arc<Series<C>> {
        let (cell, desc) = ((self.new_cell)(), Arc::clone(&self.desc));
        let observers = &self.shared.observers;
        if observers.is_empty() {
            return Arc::new(Series { cell, desc, hooks: None, key });
        }
        // Observers get a weak reference to the series, to read its value later.
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Arc::new_cyclic(|me| {
            let d = &self.desc;
            let global = &self.shared.global_pairs;
            let hooks = super::observer::hooks_for(observers, me, d.name(), d.kind(), d.unit(), global, &pairs);
            Series { cell, desc, hooks, key }
        })
    }

    fn labels_of<'a>(&'a self, key: &'a str) -> SeriesLabels<'a> {
        SeriesLabels::new(self.desc.keys.as_deref(), labels::body(key))
    }

    /// Calls `f(labels, cell)` for every series in a stable order (sorted by labels), then the
    /// overflow series with its label, if any.
    pub(crate) fn for_each(&self, mut f: impl FnMut(SeriesLabels<'_>, &C)) {
        self.for_each_entry(|labels, series| f(labels, &series.cell));
    }

    /// Like [`Self::for_each`], with each series' `Arc` (its identity, for exporters that keep
    /// state per series).
    pub(crate) fn for_each_entry(&self, mut f: impl FnMut(SeriesLabels<'_>, &Arc<Series<C>>)) {
        let table = self.read();
        let mut order = self.order.lock();
        self.sort_order(&table, &mut order);
        for &i in &order.1 {
            if let Some(series) = table.series.get_bucket(i as usize) {
                f(self.labels_of(&series.key), series);
            }
        }
        if let Some(ov) = &table.overflow {
            f(overflow_labels(ov), ov);
        }
    }

    /// Every series in the order of [`Self::for_each`], copied out so that the caller can run
    /// code of its own on them with no lock held (such code may register metrics or resolve new
    /// label sets, even in this family): a pointer per series.
    pub(crate) fn snapshot(&self) -> Snapshot<C> {
        let table = self.read();
        let mut order = self.order.lock();
        self.sort_order(&table, &mut order);
        let series = order.1.iter().filter_map(|&i| table.series.get_bucket(i as usize)).cloned().collect();
        Snapshot { desc: Arc::clone(&self.desc), series, overflow: table.overflow.clone() }
    }

    fn sort_order(&self, table: &Table<C>, order: &mut (u64, Vec<u32>)) {
        if order.0 != table.generation || order.1.len() != table.series.len() {
            let (generation, idx) = order;
            idx.clear();
            idx.extend(table.series.iter_buckets().map(|i| i as u32));
            let key = |i: &u32| table.series.get_bucket(*i as usize).map(|s| self.labels_of(&s.key));
            idx.sort_unstable_by(|a, b| match (key(a), key(b)) {
                (Some(a), Some(b)) => a.cmp_pairs(&b),
                _ => std::cmp::Ordering::Equal,
            });
            *generation = table.generation;
        }
    }

    /// The most series this family may hold (the policy's limit for it).
    pub(crate) fn series_limit(&self) -> usize {
        self.shared.policy.series_limit(&self.desc.policy_name)
    }

    /// Number of series, the overflow series not included.
    pub(crate) fn len(&self) -> usize {
        self.read().series.len()
    }

    /// Removes series whose value has not changed for `idle` and that no handle holds.
    pub(crate) fn expire(&self, now: Duration, idle: Duration) -> usize {
        let mut table = self.write();
        let table = &mut *table;
        let (now, idle) = (nanos(now), nanos(idle));
        // References the aliases hold; any beyond them and the table's own is a handle.
        let mut held: HashMap<*const Series<C>, usize> = HashMap::new();
        for a in table.aliases.iter() {
            if let Some(s) = &a.target {
                *held.entry(Arc::as_ptr(s)).or_default() += 1;
            }
        }
        let mut gone: HashSet<*const Series<C>> = HashSet::new();
        for series in table.series.iter() {
            let fingerprint = series.cell.fingerprint();
            let seen = table.seen.entry(Arc::as_ptr(series) as usize).or_insert(Seen { fingerprint, since: now });
            if fingerprint != seen.fingerprint {
                *seen = Seen { fingerprint, since: now };
            } else if now.saturating_sub(seen.since) >= idle
                && Arc::strong_count(series) == 1 + held.get(&Arc::as_ptr(series)).copied().unwrap_or(0)
            {
                gone.insert(Arc::as_ptr(series));
            }
        }
        if gone.is_empty() {
            return 0;
        }
        // One pass over each table, whatever the number expired: the write lock is held for
        // work that grows with the family, never expired × cached.
        let is_gone = |s: &Option<Arc<Series<C>>>| s.as_ref().is_some_and(|s| gone.contains(&Arc::as_ptr(s)));
        let aliases_before = table.aliases.len();
        table.aliases.retain(|a| !is_gone(&a.target));
        table.series.retain(|s| !gone.contains(&Arc::as_ptr(s)));
        table.seen.retain(|addr, _| !gone.contains(&(*addr as *const Series<C>)));
        self.shared.cached_keys.fetch_sub(aliases_before - table.aliases.len(), Ordering::Relaxed);
        table.generation += 1;
        self.shared.total.fetch_sub(gone.len(), Ordering::Relaxed);
        self.shared.events.add(Event::SeriesExpired, gone.len() as u64);
        gone.len()
    }
}

fn policy_error(metric: &str, event: Event, key: &str) -> PolicyError {
    let metric = metric.to_owned();
    match event.family() {
        "label_keys_refused" => PolicyError::KeyRefused { metric, key: key.to_owned(), reason: event.reason() },
        "series_overflowed" => PolicyError::Overflow { metric, reason: event.reason() },
        _ => PolicyError::ValueChanged { metric, key: key.to_owned(), reason: event.reason() },
    }
}
