//! Client-side aggregation: at each flush, every counter's increase since the last flush and
//! every gauge's value, read from the registry (no work on the recording path). Per-series
//! state is keyed by the series' identity and pinned with a `Weak`, so a series that expires and
//! comes back starts again from zero; state of series gone from the registry is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use super::config::StatsdConfig;
use super::events::StatsdEvent;
use super::wire::{KeyRenderer, LineFormatter, Lines, WireKey};
use crate::registry::{FamilyRef, Registry, Series, SeriesLabels, SELF_PREFIX};
use crate::storage::{CounterCell, GaugeCell};

struct Prev<C> {
    series: Weak<Series<C>>,
    key: WireKey,
    last: f64,
    seen: u64,
}

/// Events not sent over StatsD: the sender's own traffic, which changes at every flush.
const NOT_SENT: &[StatsdEvent] =
    &[StatsdEvent::PointsSent, StatsdEvent::LinesSent, StatsdEvent::PayloadsSent, StatsdEvent::BytesSent];

/// What one flush produces: a point's lines, or a point StatsD cannot carry.
pub(crate) enum Out {
    Lines(Lines),
    NotRepresentable,
}

/// The aggregation state of one StatsD backend.
#[derive(Default)]
pub(crate) struct Aggregates {
    counters: HashMap<usize, Prev<CounterCell>>,
    gauges: HashMap<usize, Prev<GaugeCell>>,
    own: Vec<u64>,
    own_keys: Vec<Option<WireKey>>,
    pass: u64,
}

fn entry<'a, C>(
    map: &'a mut HashMap<usize, Prev<C>>,
    series: &Arc<Series<C>>,
    render: impl FnOnce() -> WireKey,
    pass: u64,
    init: f64,
) -> &'a mut Prev<C> {
    let id = Arc::as_ptr(series) as usize;
    // The `Weak` keeps the allocation, so the address cannot be reused while the entry lives.
    let e =
        map.entry(id).or_insert_with(|| Prev { series: Arc::downgrade(series), key: render(), last: init, seen: 0 });
    e.seen = pass;
    e
}

/// The wire key of a series: the global labels, then its own.
fn wire_key<'a>(
    render: &KeyRenderer,
    events: &super::events::Counters,
    global: &'a [(String, String)],
    name: &str,
    labels: &[(&'a str, &'a str)],
) -> WireKey {
    let all = global.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(labels.iter().copied());
    render.render(name, false, all, events)
}

impl Aggregates {
    /// Visits every counter and gauge (when aggregating) and the crate's own counters (when
    /// the config sends them), calling `out` for each point to send.
    pub(crate) fn flush(
        &mut self,
        registry: &Registry,
        render: &KeyRenderer,
        fmt: &LineFormatter,
        config: &StatsdConfig,
        mut out: impl FnMut(Out),
    ) {
        self.pass += 1;
        let pass = self.pass;
        let events = &registry.self_metrics().register_own::<StatsdEvent>();
        let global = registry.global_labels();
        let key_of = |name: &str, labels: &[(&str, &str)]| wire_key(render, events, global, name, labels);
        let series_key = |name: &str, labels: SeriesLabels<'_>| key_of(name, &labels.iter().collect::<Vec<_>>());
        if config.aggregate {
            let (counters, gauges) = (&mut self.counters, &mut self.gauges);
            registry.with_families(|families| {
                for family in families.by_name.values() {
                    match family {
                        FamilyRef::Counter(fam) => fam.for_each_entry(|labels, s| {
                            let p = entry(counters, s, || series_key(fam.desc.name(), labels), pass, 0.0);
                            let delta = s.cell.value() - p.last;
                            if delta >= 1.0 {
                                // cadence writes whole counts; a fraction waits for the next flush.
                                let n = delta.floor().min(i64::MAX as f64);
                                out(Out::Lines(fmt.count(&p.key, n as i64)));
                                p.last += n;
                            } else if delta < 0.0 {
                                p.last = s.cell.value();
                            }
                        }),
                        FamilyRef::Gauge(fam) => fam.for_each_entry(|labels, s| {
                            let p = entry(gauges, s, || series_key(fam.desc.name(), labels), pass, f64::NAN);
                            let v = s.cell.value();
                            if config.send_unchanged_gauges || p.last.to_bits() != v.to_bits() {
                                match fmt.gauge(&p.key, v) {
                                    Some(lines) => out(Out::Lines(lines)),
                                    None => out(Out::NotRepresentable),
                                }
                            }
                            p.last = v;
                        }),
                        FamilyRef::Histogram(_) => {}
                    }
                }
            });
            counters.retain(|_, p| p.seen == pass && p.series.strong_count() > 0);
            gauges.retain(|_, p| p.seen == pass && p.series.strong_count() > 0);
        }
        if config.self_metrics {
            // Counts come in a stable order (sets registered later come after), so a count's
            // place is its identity.
            let (prev, keys) = (&mut self.own, &mut self.own_keys);
            let mut i = 0;
            registry.self_metrics().for_each(|c| {
                if prev.len() <= i {
                    prev.push(0);
                    keys.push(None);
                }
                let delta = c.count.saturating_sub(prev[i]);
                let own_traffic = NOT_SENT.iter().any(|e| e.family() == c.family && e.reason() == c.reason);
                if delta > 0 && !own_traffic {
                    prev[i] = c.count;
                    let key = keys[i].get_or_insert_with(|| {
                        let name = format!("{SELF_PREFIX}{}", c.family);
                        key_of(&name, &[("reason", c.reason)])
                    });
                    out(Out::Lines(fmt.count(key, delta.min(i64::MAX as u64) as i64)));
                }
                i += 1;
            });
        }
    }
}
