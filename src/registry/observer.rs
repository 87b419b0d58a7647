//! The one extension point for single events. A backend that wants every event of a series
//! (StatsD's immediate mode and histogram samples, a tracer, a test) implements
//! [`SeriesObserver`]; the registry asks it once per new series and stores the
//! [`SeriesHook`] it returns in the series, and every recording calls that hook after the
//! cell's atomics. A series nobody watches pays one branch, not taken. The core defines this;
//! backends implement it from outside (the crate's StatsD backend is one such implementation).
//!
//! ```
//! use std::sync::{mpsc, Arc, Mutex};
//! use codomyrmex_metrics::{NewSeries, RegistryBuilder, SeriesEvent, SeriesHook, SeriesObserver};
//!
//! #[derive(Debug)]
//! struct Log(Mutex<mpsc::Sender<(String, SeriesEvent, f64)>>);
//! #[derive(Debug)]
//! struct Hook(String, mpsc::Sender<(String, SeriesEvent, f64)>);
//! impl SeriesObserver for Log {
//!     fn watch(&self, s: NewSeries<'_>) -> Option<Box<dyn SeriesHook>> {
//!         Some(Box::new(Hook(s.name.to_owned(), self.0.lock().unwrap().clone())))
//!     }
//! }
//! impl SeriesHook for Hook {
//!     fn record(&self, event: SeriesEvent, value: f64) {
//!         let _ = self.1.send((self.0.clone(), event, value)); // never blocks
//!     }
//! }
//! let (tx, rx) = mpsc::channel();
//! let registry = RegistryBuilder::default().observer(Arc::new(Log(Mutex::new(tx)))).build();
//! registry.counter("jobs", "Jobs run.").unwrap().inc_by(3);
//! assert_eq!(rx.try_recv().unwrap(), ("jobs".to_owned(), SeriesEvent::Added, 3.0));
//! ```

use std::sync::{Arc, Weak};

use super::descriptor::{MetricKind, Unit};
use super::family::{Cell, Series};
use super::Registry;

/// What happened to a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeriesEvent {
    /// A counter grew by the value.
    Added,
    /// A gauge's value became the value.
    Set,
    /// A histogram observed the value.
    Observed,
}

/// A new series, shown once to each observer when it is created.
#[derive(Debug)]
#[non_exhaustive]
pub struct NewSeries<'a> {
    /// The family's name, prefix included (a counter's without `_total`).
    pub name: &'a str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The family's unit, if it has one.
    pub unit: Option<&'a Unit>,
    /// The registry's global labels.
    pub global_labels: &'a [(String, String)],
    /// The series' own labels, as the policy left them.
    pub labels: &'a [(String, String)],
    /// The series itself, to read its value later (at a flush, say) while it lives.
    pub series: SeriesRef,
}

/// Receives the single events of the series it chooses to watch.
pub trait SeriesObserver: Send + Sync + std::fmt::Debug + 'static {
    /// Called once when the registry is built, before any series exists (by default, nothing).
    fn attach(&self, registry: &Registry) {
        let _ = registry;
    }

    /// Called once per new series, on the thread that creates it: the hook that will receive
    /// its events, or `None` to leave it alone.
    fn watch(&self, series: NewSeries<'_>) -> Option<Box<dyn SeriesHook>>;
}

/// Receives one series' events, on the recording thread, after the value is stored. It must
/// not block: hand the event to a bounded queue, and count what a full one drops.
pub trait SeriesHook: Send + Sync + std::fmt::Debug + 'static {
    /// One event and its value.
    fn record(&self, event: SeriesEvent, value: f64);
}

/// A weak reference to a series: its current value while the registry keeps it.
#[derive(Clone)]
pub struct SeriesRef(Weak<dyn ReadValue>);

impl std::fmt::Debug for SeriesRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SeriesRef").field(&self.is_alive()).finish()
    }
}

impl SeriesRef {
    /// A counter's total or a gauge's value now; `None` for a histogram, or once the series
    /// is gone (expired, or its registry dropped).
    pub fn value(&self) -> Option<f64> {
        self.0.upgrade().and_then(|s| s.read())
    }

    /// Whether the series still exists.
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

/// A series' current value, whatever its cell.
pub(crate) trait ReadValue: Send + Sync {
    fn read(&self) -> Option<f64>;
}

impl<C: Cell> ReadValue for Series<C> {
    fn read(&self) -> Option<f64> {
        self.cell.current()
    }
}

/// The hooks of one series: a single pointer in the series, absent when nobody watches.
#[derive(Debug)]
pub(crate) struct Hooks(Box<[Box<dyn SeriesHook>]>);

impl Hooks {
    #[inline(never)]
    pub(crate) fn record(&self, event: SeriesEvent, value: f64) {
        for h in self.0.iter() {
            h.record(event, value);
        }
    }
}

/// Asks every observer about a series being built; its hooks, if any watch it.
pub(crate) fn hooks_for<C: Cell>(
    observers: &[Arc<dyn SeriesObserver>],
    me: &Weak<Series<C>>,
    name: &str,
    kind: MetricKind,
    unit: Option<&Unit>,
    global_labels: &[(String, String)],
    labels: &[(String, String)],
) -> Option<Box<Hooks>> {
    let me: Weak<dyn ReadValue> = me.clone();
    let hooks: Vec<Box<dyn SeriesHook>> = observers
        .iter()
        .filter_map(|o| o.watch(NewSeries { name, kind, unit, global_labels, labels, series: SeriesRef(me.clone()) }))
        .collect();
    (!hooks.is_empty()).then(|| Box::new(Hooks(hooks.into_boxed_slice())))
}
