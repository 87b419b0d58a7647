//! The circuit breakers against real servers that stop and come back: the Pushgateway and the
//! StatsD daemon (TCP). After N failures in a row the client stops trying (pushes skipped,
//! StatsD payloads dropped at once, each counted), after the cool-down one probe finds the
//! server back and the circuit closes; the code that records never waits, and nothing
//! recorded into the registry meanwhile is lost to the Pushgateway.
#![cfg(all(feature = "pushgateway", feature = "statsd"))]

mod support;

use std::time::{Duration, Instant};

use codomyrmex_metrics::{get_metrics, Backend, CircuitBreaker, Metrics, PushgatewayConfig, SelfReason, StatsdConfig};
use codomyrmex_metrics::{PushEvent, StatsdEvent};
use support::pushgateway::Gateway;
use support::statsd::Statsd;

fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(m: &Metrics, e: impl SelfReason) -> u64 {
    m.self_metrics().get(e)
}

#[test]
fn the_pushgateway_breaker_opens_while_the_gateway_is_away_and_closes_when_it_is_back() {
    let Some(gw) = Gateway::start() else { return };
    let config = PushgatewayConfig::builder(&gw.url(), "breaker")
        .unwrap()
        .interval(Duration::from_millis(100))
        .timeout(Duration::from_millis(500))
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
        .circuit_breaker(CircuitBreaker::new(3, Duration::from_secs(2)))
        .build()
        .unwrap();
    let m = get_metrics(Backend::Pushgateway(config)).unwrap();
    let rows = m.counter("breaker_rows", "Rows.").unwrap();
    rows.inc();
    gw.wait_for("breaker_rows_total", &["job=\"breaker\""]);

    gw.script(&["stop"]);
    wait_until("the circuit opens", Duration::from_secs(10), || count(&m, PushEvent::CircuitOpened) == 1);
    let failed_when_opened = count(&m, PushEvent::Failed) + count(&m, PushEvent::Retried);
    // While open: nothing is tried, every interval is counted as skipped, recording goes on.
    for _ in 0..1000 {
        rows.inc();
    }
    wait_until("pushes are skipped", Duration::from_secs(5), || count(&m, PushEvent::SkippedCircuitOpen) >= 5);
    assert_eq!(
        count(&m, PushEvent::Failed) + count(&m, PushEvent::Retried),
        failed_when_opened,
        "an open circuit sends nothing"
    );

    gw.script(&["start"]);
    wait_until("the probe closes the circuit", Duration::from_secs(10), || count(&m, PushEvent::CircuitClosed) == 1);
    let line = gw.wait_for("breaker_rows_total", &["job=\"breaker\"", " 1001"]);
    assert!(line.ends_with(" 1001"), "{line}");
    assert_eq!(count(&m, PushEvent::CircuitOpened), 1);
    m.shutdown().unwrap();
}

#[test]
fn the_statsd_breaker_drops_and_counts_while_the_server_is_away_and_closes_when_it_is_back() {
    let Some(server) = Statsd::start(false) else { return };
    let config = StatsdConfig::tcp(format!("127.0.0.1:{}", server.tcp))
        .flush_interval(Duration::from_millis(50))
        .backoff(Duration::from_millis(10), Duration::from_millis(40))
        .circuit_breaker(CircuitBreaker::new(3, Duration::from_secs(1)))
        .build()
        .unwrap();
    let m = get_metrics(Backend::Statsd(config)).unwrap();
    let hits = m.counter("breaker_hits", "Hits.").unwrap();
    hits.inc();
    wait_until("the first flush arrives", Duration::from_secs(10), || {
        Statsd::counter(&server.dump(), "breaker_hits") >= 1.0
    });

    server.script(&["stop"]);
    let started = Instant::now();
    wait_until("the circuit opens", Duration::from_secs(10), || {
        hits.inc();
        count(&m, StatsdEvent::CircuitOpened) >= 1
    });
    wait_until("payloads are dropped at once and counted", Duration::from_secs(5), || {
        hits.inc();
        count(&m, StatsdEvent::CircuitOpen) >= 3
    });
    eprintln!("opened {:?} after the stop", started.elapsed());

    server.script(&["start"]);
    wait_until("the probe closes the circuit", Duration::from_secs(15), || {
        hits.inc();
        count(&m, StatsdEvent::CircuitClosed) >= 1
    });
    hits.inc_by(10);
    wait_until("points arrive again", Duration::from_secs(10), || {
        Statsd::counter(&server.dump(), "breaker_hits") >= 10.0
    });
    m.shutdown().unwrap();
}
