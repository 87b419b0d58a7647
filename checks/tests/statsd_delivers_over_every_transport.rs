//! The real Etsy statsd 0.9.0 receives counters, gauges and timers over UDP, TCP, TLS (stunnel4),
//! a Unix stream socket and a Unix datagram socket, with the values recorded; the DogStatsD and
//! InfluxDB dialects arrive as the server reads them; StatsD and Prometheus run side by side.
#![cfg(all(feature = "statsd", feature = "tls"))]

mod support;

use std::time::Duration;

use codomyrmex_metrics::StatsdEvent;
use codomyrmex_metrics::{get_metrics, Backend, Dialect, StatsdBuilder, StatsdConfig};
use support::statsd::Statsd;

/// Records the same values through a backend, shuts it down (the last flush) and returns what
/// the server recorded.
fn record_through(server: &Statsd, builder: StatsdBuilder) -> serde_json::Value {
    let config = builder.prefix("t").unwrap().flush_interval(Duration::from_millis(100)).build().unwrap();
    let metrics = get_metrics(Backend::Statsd(config)).unwrap();
    let jobs = metrics.counter_family("jobs", "Jobs.", &["queue"]).unwrap();
    jobs.with(&["mail"]).inc_by(5);
    jobs.with(&["mail"]).inc_by(2);
    metrics.gauge("temperature", "Temperature.").unwrap().set(-3.5);
    let latency = metrics.histogram("latency_seconds", "Latency.", codomyrmex_metrics::Buckets::default()).unwrap();
    latency.observe(0.25);
    latency.observe(0.5);
    latency.observe(0.000_25); // a quarter of a millisecond: never `0|ms`
    let basket = metrics.histogram("basket_euros", "Basket value.", codomyrmex_metrics::Buckets::default()).unwrap();
    basket.observe(12.5); // not a duration: as recorded, never multiplied or rounded
    metrics.shutdown().unwrap();
    let events = metrics.self_metrics();
    assert_eq!(events.get(StatsdEvent::SendFailed) + events.get(StatsdEvent::Shutdown), 0);
    server.dump()
}

fn check(dump: &serde_json::Value) {
    assert_eq!(Statsd::counter(dump, "t.jobs.queue.mail"), 7.0, "{dump:#}");
    assert_eq!(dump["gauges"]["t.temperature"], -3.5, "{dump:#}");
    let samples = |key: &str| {
        let mut v: Vec<f64> =
            dump["timers"][key].as_array().expect("timer samples").iter().filter_map(|v| v.as_f64()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    assert_eq!(samples("t.latency_seconds"), [0.25, 250.0, 500.0], "seconds arrive in milliseconds, at full precision");
    assert_eq!(samples("t.basket_euros"), [12.5], "a value that is not a duration arrives as recorded");
}

#[test]
fn every_transport_delivers_the_recorded_values() {
    let Some(server) = Statsd::start(false) else { return };
    let ca = support::certs().join("ca.crt");
    let transports: Vec<(&str, StatsdBuilder)> = vec![
        ("udp", StatsdConfig::udp(format!("127.0.0.1:{}", server.udp))),
        ("tcp", StatsdConfig::tcp(format!("127.0.0.1:{}", server.tcp))),
        ("tls", StatsdConfig::tls(format!("127.0.0.1:{}", server.tls)).ca_file(&ca)),
        ("tls by name", StatsdConfig::tls(format!("localhost:{}", server.tls)).ca_file(&ca)),
        ("unix", StatsdConfig::unix(server.sock())),
        ("unixgram", StatsdConfig::unixgram(server.dgram())),
    ];
    for (name, builder) in transports {
        server.script(&["reset"]);
        eprintln!("transport {name}");
        check(&record_through(&server, builder));
    }
}

#[test]
fn dialects_arrive_as_the_server_reads_them() {
    let Some(server) = Statsd::start(false) else { return };
    let udp = format!("127.0.0.1:{}", server.udp);
    // DogStatsD tags: statsd folds them into the key, `name;k=v`.
    let dump = record_through(&server, StatsdConfig::udp(&udp).dialect(Dialect::DogStatsd).tag("env", "ci").unwrap());
    assert_eq!(Statsd::counter(&dump, "t.jobs;env=ci;queue=mail"), 7.0, "{dump:#}");
    assert_eq!(dump["gauges"]["t.temperature;env=ci"], -3.5, "a negative DogStatsD gauge is one absolute line");
    // InfluxDB/Telegraf: tags in the name; read the raw lines.
    server.script(&["reset"]);
    record_through(&server, StatsdConfig::udp(&udp).dialect(Dialect::Influx));
    let lines = server.lines();
    assert!(lines.contains("t.jobs,queue=mail:7|c"), "{lines}");
    assert!(lines.contains("t.temperature:0|g\nt.temperature:-3.5|g"), "{lines}");
    assert!(lines.contains("t.latency_seconds:250|ms"), "{lines}");
}

#[cfg(feature = "prometheus")]
#[test]
fn statsd_and_prometheus_run_from_one_get_metrics() {
    let Some(server) = Statsd::start(false) else { return };
    let statsd = StatsdConfig::udp(format!("127.0.0.1:{}", server.udp))
        .flush_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let prom = codomyrmex_metrics::PrometheusConfig::builder().listener(listener).build().unwrap();
    let metrics = get_metrics(Backend::Multi(vec![Backend::Statsd(statsd), Backend::Prometheus(prom)])).unwrap();
    metrics.counter("both", "Both.").unwrap().inc_by(3);
    assert!(metrics.render(codomyrmex_metrics::Format::PrometheusText).contains("both_total 3"));
    metrics.shutdown().unwrap();
    assert_eq!(Statsd::counter(&server.dump(), "both"), 3.0);
}
