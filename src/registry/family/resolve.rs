//! Resolving a label set the table does not hold: the policy, then the series it names, made
//! if need be.
//!
//! A new series whose raw values are its very labels (the usual case) goes into the family's
//! young table, under a mutex, rather than into the table lookups read, whose write lock takes
//! each of its 8 shards (about 55 ns, a fifth of what a new series cost). The young series move
//! over together: when [`YOUNG_BATCH`] have gathered, when any of them is looked up again, and
//! before anything else writes or reads the whole table (aliases, the overflow series, expiry,
//! rendering), so that the table is complete whenever it is written or listed. A lookup that
//! misses the table comes here, where the young table is searched. Lock order: the young table,
//! then the table.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hashbrown::HashTable;
use smallvec::SmallVec;

use super::{policy_error, Cell, DeclaredValues, Family, LabelPair, Series};
use crate::error::PolicyError;
use crate::policy::cardinality::{self, Overflow, OVERFLOW_LABEL};
use crate::policy::FinalPairs;
use crate::registry::labels::{self, hash_body, Role};
use crate::registry::Event;

/// How many young series move to the table at once.
const YOUNG_BATCH: usize = 64;

/// Series made since the last move, with their hashes (so that moving them rehashes nothing).
pub(super) type Young<C> = HashTable<(u64, Arc<Series<C>>)>;

impl<C: Cell> Family<C> {
    fn pairs_of<'a>(&'a self, raw: &[&'a str]) -> SmallVec<[(&'a str, &'a str); 4]> {
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
            Some(keys) => labels::encode(Role::Labels, DeclaredValues { keys: keys.iter(), pairs }),
            None => labels::encode(Role::Labels, pairs.iter().flat_map(|(k, v)| [Some(&**k), Some(&**v)])),
        }
    }

    /// The series for `raw` (hashed `hash`) when the table does not hold it: `None` when the
    /// registry dropped the measurement. Policy changes are pushed to `errors` when given.
    #[cold]
    pub(super) fn resolve(
        &self,
        hash: u64,
        raw: &[&str],
        mut errors: Option<&mut Vec<PolicyError>>,
    ) -> Option<Arc<Series<C>>> {
        // Young series are all made from their own raw values (role `Both`).
        let mine = |s: &Series<C>| labels::eq_raw(labels::body(&s.key), raw);
        // A young series looked up again (the usual second lookup of a new label set) needs
        // no policy: it joins the table lookups read, with the others.
        {
            let mut young = self.young.lock();
            if let Some((_, s)) = young.find(hash, |(_, s)| mine(s)) {
                let s = Arc::clone(s);
                self.promote(&mut young);
                return Some(s);
            }
        }
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
        let mut final_pairs = FinalPairs::new();
        let mut kept = shared.policy.apply_labels(metric, &self.pairs_of(raw), dynamic, &mut report, &mut final_pairs);
        let mut final_key = if kept { self.final_key(&final_pairs) } else { None };
        if kept && final_key.is_none() {
            // Longer than a key can hold; the policy caps values well below it.
            report(Event::SeriesDropped, "");
            kept = false;
        }
        let mut young = self.young.lock();
        if let Some((_, s)) = young.find(hash, |(_, s)| mine(s)) {
            // Made by another thread while this one ran the policy.
            let s = Arc::clone(s);
            self.promote(&mut young);
            return Some(s);
        }
        if let Some(key) = final_key.take_if(|k| kept && labels::eq_raw(labels::body(k), raw)) {
            match self.make_young(&mut young, hash, raw, &final_pairs, key) {
                Ok(found) => return found,
                Err(key) => final_key = Some(key),
            }
        }
        self.promote(&mut young);
        self.resolve_in_table(hash, raw, kept.then_some(&final_pairs), final_key, &mut report)
    }

    /// A new young series for `raw`, or what the table holds for it; `Err` (the key given
    /// back) when the table must be written: the labels name a series made from other raw
    /// values (which needs an alias), or the family is full (the overflow series).
    fn make_young(
        &self,
        young: &mut Young<C>,
        hash: u64,
        raw: &[&str],
        pairs: &[LabelPair<'_>],
        mut key: Box<str>,
    ) -> Result<Option<Arc<Series<C>>>, Box<str>> {
        debug_assert_eq!(hash, hash_body(labels::body(&key)), "raw values hash as the labels they equal");
        let table = self.read();
        if let Some(s) = table.find_labels(hash, raw) {
            // Made before this thread's probe missed, or from other raw values.
            return if labels::role(&s.key) == Role::Both { Ok(Some(Arc::clone(s))) } else { Err(key) };
        }
        if let Some(target) = table.find_alias(hash, raw) {
            return Ok(target.cloned());
        }
        let (shared, metric) = (&*self.shared, &*self.desc.policy_name);
        let (limit, max_total) = (shared.policy.series_limit(metric), shared.policy.max_series_total());
        if cardinality::admit(table.series.len() + young.len(), limit, &shared.total, max_total).is_err() {
            return Err(key);
        }
        drop(table);
        labels::mark_raw(&mut key);
        let series = self.new_series(pairs, key);
        young.insert_unique(hash, (hash, Arc::clone(&series)), |(h, _)| *h);
        if young.len() >= YOUNG_BATCH {
            self.promote(young);
        }
        Ok(Some(series))
    }

    /// Moves the young series to the table (the caller holds the young table's lock).
    pub(super) fn promote(&self, young: &mut Young<C>) {
        if young.is_empty() {
            return;
        }
        let mut table = self.write();
        let table = &mut *table;
        for (hash, series) in young.drain() {
            table.series.insert_unique(hash, series, |s| hash_body(labels::body(&s.key)));
        }
        table.generation += 1;
    }

    /// Moves the young series to the table, for a caller that reads or writes all of it.
    pub(super) fn settle(&self) {
        self.promote(&mut self.young.lock());
    }

    /// [`Self::resolve`] in the table, under its write lock, once the young series have moved:
    /// `pairs` is `None` when the policy dropped the measurement.
    fn resolve_in_table(
        &self,
        hash: u64,
        raw: &[&str],
        pairs: Option<&FinalPairs<'_>>,
        final_key: Option<Box<str>>,
        report: &mut dyn FnMut(Event, &str),
    ) -> Option<Arc<Series<C>>> {
        let (shared, metric) = (&*self.shared, &*self.desc.policy_name);
        let mut table = self.write();
        let table = &mut *table;
        // One probe answers both questions of the usual case: a series made from these raw
        // values (another thread made it first), or one whose labels they are.
        let same_labels = table.find_labels(hash, raw);
        if let Some(s) = same_labels.filter(|s| labels::role(&s.key) == Role::Both) {
            return Some(Arc::clone(s));
        }
        if let Some(target) = table.find_alias(hash, raw) {
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
        let target = match (pairs, final_key) {
            (Some(pairs), Some(mut key)) => {
                let body = labels::body(&key);
                raw_is_final = labels::eq_raw(body, raw);
                // A body equal to the raw parts hashes as they do (lookups rely on it), and
                // its series, if any, was found above.
                let (lh, existing) = if raw_is_final {
                    debug_assert_eq!(hash, hash_body(body));
                    (hash, same_labels)
                } else {
                    let lh = hash_body(body);
                    (lh, table.series.find(lh, |s| labels::body(&s.key) == body))
                };
                match existing {
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
            let hooks =
                crate::registry::observer::hooks_for(observers, me, d.name(), d.kind(), d.unit(), global, &pairs);
            Series { cell, desc, hooks, key }
        })
    }
}
