//! A backend of your own that receives every single event (each increment, each gauge value,
//! each observation) as it happens, the way the crate's StatsD backend does: its exporter
//! brings a `SeriesObserver`, which `get_metrics` gives to the registry before any series
//! exists. The recording code never waits: events go through a bounded channel, and what a
//! full channel drops is counted in a self-metric of its own (`SelfMetrics::register`).
//! Run: `cargo run --example event_stream_backend`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use codomyrmex_metrics::export::{Exporter, ExporterError, PullExporter};
use codomyrmex_metrics::{
    get_metrics, Backend, Buckets, Format, NewSeries, Registry, SelfCounters, SelfReason, SeriesEvent, SeriesHook,
    SeriesObserver,
};

/// One event, as a line a log shipper or a tracer could take.
type Line = String;

/// The backend's own self-metric: `codomyrmex_metrics_event_stream_events_total{reason}`,
/// registered when the registry is built, counted by the backend alone.
#[derive(Debug, Clone, Copy)]
enum StreamEvent {
    Dropped,
}

impl SelfReason for StreamEvent {
    const REASONS: &'static [(&'static str, &'static str)] = &[("event_stream_events", "dropped")];

    fn index(self) -> usize {
        self as usize
    }

    fn help(_family: &str) -> &'static str {
        "Events the event stream dropped because its channel was full."
    }
}

/// Watches every series; each gets a hook that knows its name and labels.
#[derive(Debug)]
struct EventStream {
    tx: SyncSender<Line>,
    dropped: Arc<AtomicU64>,
    counters: std::sync::OnceLock<SelfCounters<StreamEvent>>,
}

impl SeriesObserver for EventStream {
    fn attach(&self, registry: &Registry) {
        let _ = self.counters.set(registry.self_metrics().register::<StreamEvent>());
    }

    fn watch(&self, s: NewSeries<'_>) -> Option<Box<dyn SeriesHook>> {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let id = format!("{}{{{}}}", s.name, labels.join(","));
        let counters = self.counters.get().cloned();
        Some(Box::new(Hook { id, tx: self.tx.clone(), dropped: Arc::clone(&self.dropped), counters }))
    }
}

#[derive(Debug)]
struct Hook {
    id: String,
    tx: SyncSender<Line>,
    dropped: Arc<AtomicU64>,
    counters: Option<SelfCounters<StreamEvent>>,
}

impl SeriesHook for Hook {
    fn record(&self, event: SeriesEvent, value: f64) {
        if self.tx.try_send(format!("{} {event:?} {value}", self.id)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            if let Some(c) = &self.counters {
                c.record(StreamEvent::Dropped);
            }
        }
    }
}

/// The exporter: nothing to serve; it only brings the observer.
struct EventStreamExporter(Arc<EventStream>);

impl PullExporter for EventStreamExporter {
    fn name(&self) -> &str {
        "event-stream"
    }

    fn start(&mut self, _registry: Registry) -> Result<(), ExporterError> {
        Ok(())
    }

    fn observer(&self) -> Option<Arc<dyn SeriesObserver>> {
        Some(Arc::clone(&self.0) as Arc<dyn SeriesObserver>)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tx, rx): (SyncSender<Line>, Receiver<Line>) = sync_channel(1024);
    let dropped = Arc::new(AtomicU64::new(0));
    let stream = Arc::new(EventStream { tx, dropped: Arc::clone(&dropped), counters: Default::default() });
    let exporter = EventStreamExporter(stream);
    let metrics =
        get_metrics(Backend::Multi(vec![Backend::InMemory, Backend::Custom(Exporter::Pull(Box::new(exporter)))]))?;

    let orders = metrics.counter_family("orders", "Orders placed.", &["region"])?;
    orders.with(&["eu"]).inc_by(2);
    metrics.gauge("queue_depth", "Jobs waiting.")?.set(7.0);
    metrics.histogram("payload_bytes", "Request sizes.", Buckets::exponential(64.0, 4.0, 6)?)?.observe(512.0);
    let exposition = metrics.render(Format::PrometheusText);
    assert!(exposition.contains("codomyrmex_metrics_event_stream_events_total{reason=\"dropped\"} 0\n"));
    metrics.shutdown()?;

    let events: Vec<Line> = rx.try_iter().collect();
    for e in &events {
        println!("{e}");
    }
    assert_eq!(
        events,
        ["orders{region=eu} Added 2", "queue_depth{} Set 7", "payload_bytes{} Observed 512"],
        "every event, in order"
    );
    assert_eq!(dropped.load(Ordering::Relaxed), 0);
    Ok(())
}
