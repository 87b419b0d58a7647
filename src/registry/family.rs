//! A metric family's series table.
//!
//! Two maps: raw label values as the caller gave them → resolved series (the cache that makes
//! repeated lookups cheap), and final label sets → series (so several raw values that the
//! policy maps to one label set share one series). Reads take a read lock; a miss runs the
//! policy outside any lock, then takes the write lock once.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hashbrown::HashTable;
use parking_lot::{Mutex, RwLock};

use super::descriptor::Descriptor;
use super::{Event, Shared};
use crate::error::PolicyError;
use crate::export::escape::write_label_pairs;
use crate::policy::cardinality::{self, Overflow, OVERFLOW_LABEL, OVERFLOW_LABELS};

/// A cell plus what a handle needs to report refused values.
#[derive(Debug)]
pub(crate) struct Series<C> {
    pub(crate) cell: C,
    pub(crate) desc: Arc<Descriptor>,
    /// The hooks of the observers that watch it (see [`super::observer`]); `None` for most.
    pub(crate) hooks: Option<Box<super::observer::Hooks>>,
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

/// The hash seed, drawn once per process from the standard library's random keys, so that
/// label values an attacker chooses cannot be made to collide in advance.
pub(crate) static SEED: once_cell::sync::Lazy<u64> = once_cell::sync::Lazy::new(|| {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x6d65_7472_6963_7321u64)
});

#[inline]
pub(crate) fn hash_parts<S: AsRef<str>>(parts: &[S]) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(*SEED).build_hasher();
    for p in parts {
        h.write(p.as_ref().as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// A raw key stored as one allocation: each part as a little-endian `u32` length and its bytes.
fn encode_key(parts: &[&str]) -> Box<[u8]> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    out.into_boxed_slice()
}

/// The parts of an encoded key.
fn decode_key(mut key: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = key.split_first_chunk::<4>()?;
        let (part, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
        key = rest;
        Some(part)
    })
}

#[inline]
fn key_eq(stored: &[u8], parts: &[&str]) -> bool {
    let mut at = 0;
    for p in parts {
        let Some(len) = stored.get(at..at + 4) else { return false };
        if len != (p.len() as u32).to_le_bytes() || stored.get(at + 4..at + 4 + p.len()) != Some(p.as_bytes()) {
            return false;
        }
        at += 4 + p.len();
    }
    at == stored.len()
}

fn hash_encoded(key: &[u8]) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(*SEED).build_hasher();
    for p in decode_key(key) {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

/// A raw key and what it resolved to (`None`: the policy dropped the measurement).
struct RawEntry<C> {
    key: Box<[u8]>,
    target: Option<Arc<Series<C>>>,
}

struct SeriesEntry<C> {
    labels: Box<str>,
    series: Arc<Series<C>>,
}

/// A family's series copied out by [`Family::snapshot`].
pub(crate) struct Snapshot<C> {
    text: String,
    series: Vec<(std::ops::Range<usize>, Arc<Series<C>>)>,
}

impl<C> Snapshot<C> {
    /// Each series' labels (escaped text, as rendered) and the series.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Series<C>)> {
        self.series.iter().map(|(range, s)| (&self.text[range.clone()], &**s))
    }
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
    raw: HashTable<RawEntry<C>>,
    by_labels: HashTable<u32>,
    series: Vec<SeriesEntry<C>>,
    overflow: Option<Arc<Series<C>>>,
    generation: u64,
    /// Parallel to `series`, filled by the first expiry sweep.
    seen: Vec<Seen>,
}

/// One metric family: its descriptor and its series.
pub(crate) struct Family<C> {
    pub(crate) desc: Arc<Descriptor>,
    shared: Arc<Shared>,
    table: RwLock<Table<C>>,
    order: Mutex<(u64, Vec<u32>)>,
    new_cell: Box<dyn Fn() -> C + Send + Sync>,
}

impl<C: Cell> Family<C> {
    pub(crate) fn new(desc: Arc<Descriptor>, shared: Arc<Shared>, new_cell: Box<dyn Fn() -> C + Send + Sync>) -> Self {
        Self {
            desc,
            shared,
            table: RwLock::new(Table {
                raw: HashTable::new(),
                by_labels: HashTable::new(),
                series: Vec::new(),
                overflow: None,
                generation: 0,
                seen: Vec::new(),
            }),
            order: Mutex::new((u64::MAX, Vec::new())),
            new_cell,
        }
    }

    /// The one lookup: a read-locked probe of the raw-key cache, else the policy. `f` gets the
    /// series, or `None` when the registry is disabled or the policy dropped the measurement.
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
            let table = self.table.read();
            if let Some(e) = table.raw.find(hash, |e| key_eq(&e.key, raw)) {
                return f(e.target.as_ref());
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
            let table = self.table.read();
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

    fn pairs_of(&self, raw: &[&str]) -> Vec<(String, String)> {
        match &self.desc.keys {
            Some(keys) => {
                if keys.len() != raw.len() {
                    self.shared.events.record(Event::Arity);
                }
                // Missing values are empty; extra values are ignored.
                keys.iter()
                    .enumerate()
                    .map(|(i, k)| (k.to_string(), raw.get(i).copied().unwrap_or_default().to_owned()))
                    .collect()
            }
            None => raw.chunks_exact(2).map(|kv| (kv[0].to_owned(), kv[1].to_owned())).collect(),
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
        let final_pairs = shared.policy.apply_labels(metric, self.pairs_of(raw), dynamic, &mut report);
        let mut labels = String::new();
        if let Some(pairs) = &final_pairs {
            write_label_pairs(&mut labels, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let mut table = self.table.write();
        let table = &mut *table;
        if let Some(e) = table.raw.find(hash, |e| key_eq(&e.key, raw)) {
            return e.target.clone();
        }
        // The cache of raw keys is bounded per family and in total; past either bound a miss
        // runs the policy each time: slower, still correct, and memory stays bounded.
        let raw_limit = shared.policy.series_limit(metric).saturating_mul(2).max(16);
        let total_limit = shared.policy.max_series_total().saturating_mul(2);
        // Only raw values within the caps are kept: a 10 KB value is resolved again on each
        // call rather than stored, so the cache's bytes are bounded as well as its entries.
        let part_cap = shared.policy.max_label_value_len().max(crate::policy::validate::MAX_NAME_LEN);
        let cache = table.raw.len() < raw_limit
            && shared.cached_keys.load(Ordering::Relaxed) < total_limit
            && raw.iter().all(|p| p.len() <= part_cap);
        let target = match final_pairs {
            None => None,
            Some(_) => {
                let lh = hash_parts(&[labels.as_str()]);
                let found = table.by_labels.find(lh, |&i| *table.series[i as usize].labels == *labels).copied();
                match found {
                    Some(i) => Some(Arc::clone(&table.series[i as usize].series)),
                    None => {
                        let limit = shared.policy.series_limit(metric);
                        let max_total = shared.policy.max_series_total();
                        match cardinality::admit(table.series.len(), limit, &shared.total, max_total) {
                            Ok(()) => {
                                let series = self.new_series(final_pairs.as_deref().unwrap_or_default());
                                let index = table.series.len() as u32;
                                table
                                    .series
                                    .push(SeriesEntry { labels: labels.into_boxed_str(), series: Arc::clone(&series) });
                                let entries = &table.series;
                                table
                                    .by_labels
                                    .insert_unique(lh, index, |&i| hash_parts(&[&*entries[i as usize].labels]));
                                table.generation += 1;
                                Some(series)
                            }
                            Err(which) => {
                                let event = match which {
                                    Overflow::Metric => Event::OverflowMetric,
                                    Overflow::Global => Event::OverflowGlobal,
                                };
                                report(event, "");
                                let ov = table.overflow.get_or_insert_with(|| {
                                    let pairs = [(OVERFLOW_LABEL.to_owned(), "true".to_owned())];
                                    self.new_series(&pairs)
                                });
                                Some(Arc::clone(ov))
                            }
                        }
                    }
                }
            }
        };
        if cache {
            shared.cached_keys.fetch_add(1, Ordering::Relaxed);
            let entry = RawEntry { key: encode_key(raw), target: target.clone() };
            table.raw.insert_unique(hash, entry, |e| hash_encoded(&e.key));
        }
        target
    }

    fn new_series(&self, pairs: &[(String, String)]) -> Arc<Series<C>> {
        let (cell, desc) = ((self.new_cell)(), Arc::clone(&self.desc));
        let observers = &self.shared.observers;
        if observers.is_empty() {
            return Arc::new(Series { cell, desc, hooks: None });
        }
        // Observers get a weak reference to the series, to read its value later.
        Arc::new_cyclic(|me| {
            let d = &self.desc;
            let global = &self.shared.global_pairs;
            let hooks = super::observer::hooks_for(observers, me, d.name(), d.kind(), d.unit(), global, pairs);
            Series { cell, desc, hooks }
        })
    }

    /// Calls `f(labels, cell)` for every series in a stable order (sorted by labels), then the
    /// overflow series with its label, if any. `labels` is escaped text without braces.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, &C)) {
        self.for_each_entry(|labels, series| f(labels, &series.cell));
    }

    /// Like [`Self::for_each`], with each series' `Arc` (its identity, for exporters that keep
    /// state per series).
    pub(crate) fn for_each_entry(&self, mut f: impl FnMut(&str, &Arc<Series<C>>)) {
        let table = self.table.read();
        let mut order = self.order.lock();
        Self::sort_order(&table, &mut order);
        for &i in &order.1 {
            let e = &table.series[i as usize];
            f(&e.labels, &e.series);
        }
        if let Some(ov) = &table.overflow {
            f(OVERFLOW_LABELS, ov);
        }
    }

    /// Every series in the order of [`Self::for_each`], copied out so that the caller can run
    /// code of its own on them with no lock held (such code may register metrics or resolve new
    /// label sets, even in this family): the label texts go into one buffer, and each series
    /// is a range of it and a pointer.
    pub(crate) fn snapshot(&self) -> Snapshot<C> {
        let mut snap = Snapshot { text: String::new(), series: Vec::with_capacity(self.len() + 1) };
        self.for_each_entry(|labels, series| {
            let start = snap.text.len();
            snap.text.push_str(labels);
            snap.series.push((start..snap.text.len(), Arc::clone(series)));
        });
        snap
    }

    fn sort_order(table: &Table<C>, order: &mut (u64, Vec<u32>)) {
        if order.0 != table.generation || order.1.len() != table.series.len() {
            let (generation, idx) = order;
            idx.clear();
            idx.extend(0..table.series.len() as u32);
            idx.sort_unstable_by(|a, b| table.series[*a as usize].labels.cmp(&table.series[*b as usize].labels));
            *generation = table.generation;
        }
    }

    /// The most series this family may hold (the policy's limit for it).
    pub(crate) fn series_limit(&self) -> usize {
        self.shared.policy.series_limit(&self.desc.policy_name)
    }

    /// Number of series, the overflow series not included.
    pub(crate) fn len(&self) -> usize {
        self.table.read().series.len()
    }

    /// Removes series whose value has not changed for `idle` and that no handle holds.
    pub(crate) fn expire(&self, now: Duration, idle: Duration) -> usize {
        let mut table = self.table.write();
        let table = &mut *table;
        let (now, idle) = (nanos(now), nanos(idle));
        // References the raw cache holds; any beyond them and the series' own is a handle.
        let mut cached: HashMap<*const Series<C>, usize> = HashMap::new();
        for r in table.raw.iter() {
            if let Some(s) = &r.target {
                *cached.entry(Arc::as_ptr(s)).or_default() += 1;
            }
        }
        let mut expired: Vec<usize> = Vec::new();
        for (i, e) in table.series.iter().enumerate() {
            let fingerprint = e.series.cell.fingerprint();
            let Some(seen) = table.seen.get_mut(i) else {
                table.seen.push(Seen { fingerprint, since: now });
                continue;
            };
            if fingerprint != seen.fingerprint {
                *seen = Seen { fingerprint, since: now };
            } else if now.saturating_sub(seen.since) >= idle
                && Arc::strong_count(&e.series) == 1 + cached.get(&Arc::as_ptr(&e.series)).copied().unwrap_or(0)
            {
                expired.push(i);
            }
        }
        if expired.is_empty() {
            return 0;
        }
        // One pass over the cache and one over the series, whatever the number expired: the
        // write lock is held for work that grows with the family, never expired × cached.
        let gone: HashSet<*const Series<C>> = expired.iter().map(|&i| Arc::as_ptr(&table.series[i].series)).collect();
        let cached_before = table.raw.len();
        table.raw.retain(|r| !r.target.as_ref().is_some_and(|s| gone.contains(&Arc::as_ptr(s))));
        self.shared.cached_keys.fetch_sub(cached_before - table.raw.len(), Ordering::Relaxed);
        let mut keep = vec![true; table.series.len()];
        for &i in &expired {
            keep[i] = false;
        }
        let mut flags = keep.iter();
        table.series.retain(|_| flags.next().copied().unwrap_or(true));
        let mut flags = keep.iter();
        table.seen.retain(|_| flags.next().copied().unwrap_or(true));
        table.by_labels.clear();
        let entries = &table.series;
        for (i, e) in entries.iter().enumerate() {
            table
                .by_labels
                .insert_unique(hash_parts(&[&*e.labels]), i as u32, |&j| hash_parts(&[&*entries[j as usize].labels]));
        }
        table.generation += 1;
        self.shared.total.fetch_sub(expired.len(), Ordering::Relaxed);
        self.shared.events.add(Event::SeriesExpired, expired.len() as u64);
        expired.len()
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

#[cfg(test)]
mod tests {
    /// Prints the process' seed when asked (run by the test below in child processes).
    #[test]
    fn print_seed() {
        if std::env::var_os("CODOMYRMEX_PRINT_SEED").is_some() {
            println!("seed={}", *super::SEED);
        }
    }

    #[test]
    fn the_hash_seed_differs_between_processes() {
        let seed = || {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "registry::family::tests::print_seed", "--nocapture", "--test-threads=1"])
                .env("CODOMYRMEX_PRINT_SEED", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines().find_map(|l| l.split("seed=").nth(1).map(str::to_owned)).unwrap_or_else(|| panic!("{text}"))
        };
        let (a, b) = (seed(), seed());
        assert_ne!(a, b, "two processes hashed with the same seed");
    }
}
