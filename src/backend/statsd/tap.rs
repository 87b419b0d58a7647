//! StatsD's observer of single events (the core's [`SeriesObserver`]): for a series that must
//! report single events (every histogram sample; every counter and gauge event in immediate
//! mode) it renders the wire key once, when the series is created, and returns a hook that
//! hands each event to the bounded queue of the StatsD worker. Handing over is one
//! `try_send`; a full queue drops the point and counts it, so the caller never blocks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_channel::{Sender, TrySendError};
use parking_lot::Mutex;

use super::events::{Counters, StatsdEvent};
use super::wire::{KeyRenderer, WireKey};
use crate::registry::{MetricKind, NewSeries, Registry, SeriesEvent, SeriesHook, SeriesObserver, SeriesRef, Unit};

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

/// A series' wire key, and (for an immediate gauge) the value of the last line handed to the
/// transport, which the worker keeps.
#[derive(Debug)]
pub(crate) struct TapKey {
    pub(crate) key: WireKey,
    pub(crate) last_sent: AtomicU64,
}

/// No line sent yet (a gauge is never NaN).
pub(crate) const UNSENT: u64 = 0x7ff8_0000_0000_0000; // the bits of f64::NAN

impl TapKey {
    pub(crate) fn sent(&self, value: f64) {
        self.last_sent.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// One value on its way to the StatsD worker.
#[derive(Debug)]
pub(crate) struct Point {
    pub(crate) key: Arc<TapKey>,
    pub(crate) value: f64,
    pub(crate) kind: PointKind,
}

/// Immediate-mode gauges, with their series: the worker sends each again at a flush when the
/// last line sent is not the series' value (a point dropped, or queued out of order).
pub(crate) type ImmediateGauges = Arc<Mutex<Vec<(Arc<TapKey>, SeriesRef)>>>;

/// One StatsD backend as the recording side sees it.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) tx: Sender<Point>,
    /// Sampling rate for histogram samples, in (0, 1].
    pub(crate) sample_rate: f64,
    /// Counters and gauges report every event too.
    pub(crate) immediate: bool,
    pub(crate) render: KeyRenderer,
    pub(crate) gauges: ImmediateGauges,
    /// The backend's own self-metrics in the registry, known once it is built.
    pub(crate) events: OnceLock<Counters>,
}

/// The observer a StatsD backend brings to the registry.
#[derive(Debug)]
pub(crate) struct StatsdObserver(pub(crate) Arc<Target>);

impl SeriesObserver for StatsdObserver {
    fn attach(&self, registry: &Registry) {
        let _ = self.0.events.set(registry.self_metrics().register_own::<StatsdEvent>());
    }

    fn watch(&self, s: NewSeries<'_>) -> Option<Box<dyn SeriesHook>> {
        let t = &self.0;
        if !(s.kind == MetricKind::Histogram || t.immediate) {
            return None;
        }
        let fallback;
        let events = match t.events.get() {
            Some(e) => e,
            None => {
                fallback = crate::registry::SelfMetrics::default().register_own::<StatsdEvent>();
                &fallback
            }
        };
        let all = s.global_labels.iter().chain(s.labels).map(|(k, v)| (k.as_str(), v.as_str()));
        let key = t.render.render(s.name, s.unit == Some(&Unit::SECONDS), all, events);
        let key = Arc::new(TapKey { key, last_sent: AtomicU64::new(UNSENT) });
        if t.immediate && s.kind == MetricKind::Gauge {
            t.gauges.lock().push((Arc::clone(&key), s.series));
        }
        Some(Box::new(Tap { target: Arc::clone(t), key }))
    }
}

/// A series' hook into the StatsD worker.
#[derive(Debug)]
pub(crate) struct Tap {
    target: Arc<Target>,
    key: Arc<TapKey>,
}

impl SeriesHook for Tap {
    fn record(&self, event: SeriesEvent, value: f64) {
        let t = &self.target;
        let kind = match event {
            SeriesEvent::Observed => {
                if t.sample_rate < 1.0 && fastrand::f64() >= t.sample_rate {
                    return;
                }
                PointKind::Sample
            }
            _ if !t.immediate => return,
            SeriesEvent::Added => PointKind::Count,
            _ => PointKind::Gauge,
        };
        let point = Point { key: Arc::clone(&self.key), value, kind };
        let dropped = match t.tx.try_send(point) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => StatsdEvent::QueueFull,
            Err(TrySendError::Disconnected(_)) => StatsdEvent::Shutdown,
        };
        if let Some(events) = t.events.get() {
            events.record(dropped);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsent_is_the_bits_of_nan() {
        assert_eq!(super::UNSENT, f64::NAN.to_bits());
    }
}
