//! A metric family's series table.
//!
//! One hash table holds each series under its final label set (its identity, see
//! [`labels`]); a second holds the caller's raw label values where they differ from the label
//! set they resolve to (so several raw spellings that the policy maps to one label set share
//! one series, and a repeated lookup skips the policy). A raw key equal to its final label set,
//! the usual case, is found in the first table. Reads take a read lock; a miss goes to
//! [`resolve`], which runs the policy outside any lock and keeps most new series in a young
//! table until they are looked up again.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};
use hashbrown::HashTable;
use parking_lot::Mutex;

mod resolve;

use super::descriptor::Descriptor;
pub(crate) use super::label_hash::hash_parts;
use super::labels::{self, hash_body, Role, SeriesLabels};
use super::{Event, Shared};
use crate::error::PolicyError;

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
        match self.find_labels(hash, raw) {
            Some(s) if labels::role(&s.key) == Role::Both => Some(Some(s)),
            _ => self.find_alias(hash, raw),
        }
    }

    /// The series whose labels are `raw`, whatever raw values made it (labels are unique in
    /// the table: there is at most one).
    #[inline]
    fn find_labels(&self, hash: u64, raw: &[&str]) -> Option<&Arc<Series<C>>> {
        self.series.find(hash, |s| labels::eq_raw(labels::body(&s.key), raw))
    }

    /// What raw values of their own resolve to (`Some(None)`: the policy drops them).
    #[inline]
    fn find_alias(&self, hash: u64, raw: &[&str]) -> Option<Option<&Arc<Series<C>>>> {
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
    /// New series not yet in the table (see [`resolve`]).
    young: Mutex<resolve::Young<C>>,
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
            young: Mutex::new(HashTable::new()),
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
            // policy or the write lock, so a flood of new values costs each call a probe. (The
            // count leaves out young series; the first overflow in `resolve` moves them over.)
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
        self.settle();
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
        self.settle();
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
        let young = self.young.lock();
        young.len() + self.read().series.len()
    }

    /// Removes series whose value has not changed for `idle` and that no handle holds.
    pub(crate) fn expire(&self, now: Duration, idle: Duration) -> usize {
        self.settle();
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

/// The value of each declared key in a final label set (`None`: the policy removed the key),
/// read without collecting: the final pairs are the declared keys' subsequence, in order.
#[derive(Clone)]
struct DeclaredValues<'k, 'p> {
    keys: std::slice::Iter<'k, Box<str>>,
    pairs: &'p [LabelPair<'p>],
}

impl<'p> Iterator for DeclaredValues<'_, 'p> {
    type Item = Option<&'p str>;

    fn next(&mut self) -> Option<Option<&'p str>> {
        let key = self.keys.next()?;
        match self.pairs.split_first() {
            Some(((k, v), rest)) if **k == **key => {
                self.pairs = rest;
                Some(Some(&**v))
            }
            _ => Some(None),
        }
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
