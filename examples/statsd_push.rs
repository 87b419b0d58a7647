//! Pushes to a StatsD server: UDP to 127.0.0.1:8125 by default, or whatever
//! `CODOMYRMEX_METRICS_BACKEND` says (`statsd+tcp://…`, `statsd+tls://…` with
//! `CODOMYRMEX_METRICS_STATSD_CA_FILE`, `statsd+unix:///…`) with the other
//! `CODOMYRMEX_METRICS_STATSD_*` variables. Records a few requests, then shuts down, which sends
//! the last aggregates, and prints what the client counted.
//!
//! Run: `cargo run --features statsd --example statsd_push`
//! (TLS: `--features statsd,tls`).

use std::time::Duration;

use codomyrmex_metrics::{Backend, Buckets, MetricsBuilder, StatsdConfig, StatsdEvent, ENV_BACKEND};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let builder = if std::env::var(ENV_BACKEND).is_ok_and(|v| !v.trim().is_empty()) {
        MetricsBuilder::from_env()?
    } else {
        let config = StatsdConfig::udp("127.0.0.1:8125").prefix("example")?.build()?;
        MetricsBuilder::new(Backend::Statsd(config))
    };
    let metrics = builder.build()?;

    let requests = metrics.counter_family("requests", "Requests served.", &["route", "status"])?;
    let latency = metrics.histogram("request_duration_seconds", "Request latency.", Buckets::default())?;
    let in_flight = metrics.gauge("in_flight", "Requests being served.")?;
    for i in 0..20u32 {
        in_flight.inc();
        requests.with(&["/orders/:id", if i % 5 == 0 { "500" } else { "200" }]).inc();
        latency.observe(0.005 * f64::from(i % 7 + 1));
        in_flight.dec();
        std::thread::sleep(Duration::from_millis(10));
    }

    metrics.shutdown()?;
    let e = metrics.self_metrics();
    println!(
        "points sent: {}, payloads: {}, bytes: {}, dropped: {}",
        e.get(StatsdEvent::PointsSent),
        e.get(StatsdEvent::PayloadsSent),
        e.get(StatsdEvent::BytesSent),
        e.get(StatsdEvent::QueueFull)
            + e.get(StatsdEvent::SendQueueFull)
            + e.get(StatsdEvent::SendFailed)
            + e.get(StatsdEvent::Shutdown)
    );
    Ok(())
}
