//! The StatsD backend (feature `statsd`): lines formatted by cadence, sent over UDP or a Unix
//! datagram socket (cadence's sinks) or over TCP, TLS or a Unix stream socket (the crate's
//! newline-framed sink, reconnecting with backoff), through cadence's bounded queuing sink.
//!
//! The recording side never blocks. Counters and gauges are aggregated per flush interval by
//! reading the registry; histogram samples (and, in immediate mode, every event) go through a
//! bounded queue to a worker thread. Whatever a full queue or a lost server costs is counted in
//! `codomyrmex_metrics_statsd_points_total{reason}`. See docs/backends.md.

mod aggregate;
mod config;
mod events;
mod from_url;
mod sink;
mod stream;
pub(crate) mod tap;
#[cfg(feature = "tls")]
mod tls;
mod wire;
mod worker;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;

use cadence::QueuingMetricSink;
use crossbeam_channel::{Receiver, Sender};

pub use config::{
    Dialect, EtsyLabels, HistogramAs, StatsdBuilder, StatsdConfig, StatsdTransport, MAX_PAYLOAD, MIN_PAYLOAD,
};
pub use events::StatsdEvent;
pub(crate) use from_url::config_from_url;
pub use from_url::{
    ENV_STATSD_AGGREGATE, ENV_STATSD_CA_FILE, ENV_STATSD_CLIENT_CERT, ENV_STATSD_CLIENT_KEY, ENV_STATSD_DIALECT,
    ENV_STATSD_ETSY_LABELS, ENV_STATSD_FLUSH_INTERVAL_MS, ENV_STATSD_HISTOGRAM_AS, ENV_STATSD_MAX_PAYLOAD,
    ENV_STATSD_PIN_SHA256, ENV_STATSD_PREFIX, ENV_STATSD_SAMPLE_RATE, ENV_STATSD_SERVER_NAME, ENV_STATSD_TAGS,
};

use crate::error::ConfigError;
use crate::export::{ExporterError, PullExporter};
use crate::registry::Registry;
use sink::{CountingSink, Plan};
use tap::{ImmediateGauges, Point, StatsdObserver, Target};
use wire::KeyRenderer;

/// A running StatsD backend. Made by [`crate::get_metrics`] from [`crate::Backend::Statsd`].
pub struct StatsdExporter {
    config: StatsdConfig,
    plan: Plan,
    render: KeyRenderer,
    observer: Arc<StatsdObserver>,
    gauges: ImmediateGauges,
    points: Option<Receiver<Point>>,
    stop: Option<Sender<()>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for StatsdExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsdExporter").field("transport", &self.config.transport).finish_non_exhaustive()
    }
}

impl StatsdExporter {
    /// The exporter for `config`, with the observer that brings it single events.
    pub(crate) fn new(config: StatsdConfig) -> Result<Self, ConfigError> {
        let plan = Plan::new(&config)?;
        let (tx, rx) = crossbeam_channel::bounded(config.queue_capacity);
        let render = KeyRenderer::for_config(&config);
        let gauges = ImmediateGauges::default();
        let target = Target {
            tx,
            sample_rate: config.sample_rate,
            immediate: !config.aggregate,
            render: render.clone(),
            gauges: Arc::clone(&gauges),
            events: std::sync::OnceLock::new(),
        };
        let observer = Arc::new(StatsdObserver(Arc::new(target)));
        Ok(Self { config, plan, render, observer, gauges, points: Some(rx), stop: None, worker: None })
    }
}

impl PullExporter for StatsdExporter {
    fn name(&self) -> &str {
        "statsd"
    }

    fn observer(&self) -> Option<Arc<dyn crate::SeriesObserver>> {
        Some(Arc::clone(&self.observer) as Arc<dyn crate::SeriesObserver>)
    }

    fn start(&mut self, registry: Registry) -> Result<(), ExporterError> {
        let events = registry.self_metrics().register_own::<StatsdEvent>();
        let fail = |e: std::io::Error| ExporterError::Start { exporter: "statsd".into(), source: Box::new(e) };
        let points = self.points.take().ok_or_else(|| fail(std::io::Error::other("started twice")))?;
        let abandon = Arc::new(AtomicBool::new(false));
        let sink = CountingSink::open(&self.plan, &self.config, events, Arc::clone(&abandon)).map_err(fail)?;
        let done = Arc::clone(&sink.done);
        let send = QueuingMetricSink::builder().with_capacity(self.config.send_queue_capacity).build(sink);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(1);
        let worker = worker::Worker {
            gauges: Arc::clone(&self.gauges),
            points,
            stop: stop_rx,
            registry,
            render: self.render.clone(),
            config: self.config.clone(),
            send,
            done,
            abandon,
        };
        let handle =
            std::thread::Builder::new().name("codomyrmex-statsd".into()).spawn(move || worker.run()).map_err(fail)?;
        self.stop = Some(stop_tx);
        self.worker = Some(handle);
        Ok(())
    }

    /// Sends what is queued and the last aggregates, within the shutdown budget.
    fn shutdown(&mut self) -> Result<(), ExporterError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.try_send(());
        }
        if let Some(w) = self.worker.take() {
            w.join().map_err(|_| ExporterError::Shutdown {
                exporter: "statsd".into(),
                reason: "the worker panicked".into(),
            })?;
        }
        Ok(())
    }
}

impl Drop for StatsdExporter {
    fn drop(&mut self) {
        // Signal only: the worker flushes on its own thread; nothing blocks here.
        if let Some(stop) = self.stop.take() {
            let _ = stop.try_send(());
        }
    }
}
