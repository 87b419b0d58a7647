//! The hot-path hook. In a registry with StatsD backends, a series that must report single
//! events (every histogram sample; every counter and gauge event in immediate mode) carries a
//! [`Tap`]: its wire keys, rendered once when the series is created, and the bounded queues of
//! the StatsD workers. Handing over a point is one `try_send`; a full queue drops the point and
//! counts it, so the caller never blocks. Series of a registry without StatsD carry no tap.

use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};

use super::wire::{KeyRenderer, WireKey};
use crate::registry::{Descriptor, Event, MetricKind, Unit};

/// What a point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointKind {
    /// A counter increment (immediate mode).
    Count,
    /// A gauge's new value (immediate mode).
    Gauge,
    /// One histogram observation.
    Sample,
}

/// One value on its way to a StatsD worker.
#[derive(Debug)]
pub(crate) struct Point {
    pub(crate) keys: Arc<SeriesKeys>,
    pub(crate) value: f64,
    pub(crate) kind: PointKind,
}

/// A series' wire key for each StatsD backend, in target order.
#[derive(Debug)]
pub(crate) struct SeriesKeys {
    pub(crate) keys: Box<[WireKey]>,
}

/// One StatsD backend as the hot path sees it.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) tx: Sender<Point>,
    /// Sampling rate for histogram samples, in (0, 1].
    pub(crate) sample_rate: f64,
    /// Counters and gauges report every event too.
    pub(crate) immediate: bool,
    pub(crate) render: KeyRenderer,
}

impl Target {
    fn wants(&self, kind: MetricKind) -> bool {
        matches!(kind, MetricKind::Histogram) || self.immediate
    }
}

/// Every StatsD backend of one registry, and the registry's global labels.
#[derive(Debug)]
pub(crate) struct TapHub {
    targets: Box<[Target]>,
    global: Vec<(String, String)>,
}

impl TapHub {
    pub(crate) fn new(targets: Vec<Target>, global: Vec<(String, String)>) -> Self {
        Self { targets: targets.into_boxed_slice(), global }
    }

    /// The tap for a new series of `desc` with `pairs` (after the policy), or `None` when no
    /// backend needs its single events.
    pub(crate) fn tap_for(self: &Arc<Self>, desc: &Descriptor, pairs: &[(String, String)]) -> Option<Box<Tap>> {
        if !self.targets.iter().any(|t| t.wants(desc.kind())) {
            return None;
        }
        let all = || self.global.iter().chain(pairs).map(|(k, v)| (k.as_str(), v.as_str()));
        let seconds = desc.unit() == Some(&Unit::SECONDS);
        let keys = self.targets.iter().map(|t| t.render.render(desc.name(), seconds, all(), &desc.events)).collect();
        Some(Box::new(Tap { hub: Arc::clone(self), keys: Arc::new(SeriesKeys { keys }) }))
    }
}

/// A series' hook into the StatsD workers.
#[derive(Debug)]
pub(crate) struct Tap {
    hub: Arc<TapHub>,
    keys: Arc<SeriesKeys>,
}

impl Tap {
    /// The identity of this series' keys, as the worker sees it in each [`Point`].
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.keys) as usize
    }

    /// The wire key of StatsD backend number `index`.
    pub(crate) fn key(&self, index: usize) -> &WireKey {
        &self.keys.keys[index]
    }

    /// Hands `value` to every backend that wants it; never blocks.
    #[inline(never)]
    pub(crate) fn send(&self, kind: PointKind, value: f64, desc: &Descriptor) {
        for t in self.hub.targets.iter() {
            match kind {
                PointKind::Sample => {
                    if t.sample_rate < 1.0 && fastrand::f64() >= t.sample_rate {
                        continue;
                    }
                }
                PointKind::Count | PointKind::Gauge => {
                    if !t.immediate {
                        continue;
                    }
                }
            }
            let point = Point { keys: Arc::clone(&self.keys), value, kind };
            match t.tx.try_send(point) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => desc.events.record(Event::StatsdQueueFull),
                Err(TrySendError::Disconnected(_)) => desc.events.record(Event::StatsdShutdown),
            }
        }
    }
}
