//! StatsD over TLS checks who is on the other end: with stunnel4 requiring client certificates,
//! a certificate signed by the CA delivers and an untrusted one delivers nothing; a server whose
//! certificate is for another host name is refused by the client, and the loss is counted.
#![cfg(all(feature = "statsd", feature = "tls"))]

mod support;

use std::time::Duration;

use codomyrmex_metrics::StatsdEvent;
use codomyrmex_metrics::{get_metrics, Backend, Metrics, StatsdBuilder, StatsdConfig};
use support::statsd::Statsd;

fn send(builder: StatsdBuilder, key: &str) -> Metrics {
    let config = builder
        .flush_interval(Duration::from_millis(50))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .shutdown_budget(Duration::from_millis(500))
        .build()
        .unwrap();
    let metrics = get_metrics(Backend::Statsd(config)).unwrap();
    metrics.counter(key, "Test.").unwrap().inc_by(4);
    std::thread::sleep(Duration::from_millis(300));
    metrics.shutdown().unwrap();
    metrics
}

#[test]
fn mtls_delivers_with_a_trusted_certificate_and_nothing_without() {
    let Some(server) = Statsd::start(true) else { return };
    let certs = support::certs();
    let tls = || StatsdConfig::tls(format!("127.0.0.1:{}", server.tls)).ca_file(certs.join("ca.crt"));
    send(tls().client_cert(certs.join("client.crt"), certs.join("client.key")), "trusted");
    send(tls().client_cert(certs.join("rogue.crt"), certs.join("rogue.key")), "rogue");
    send(tls(), "anonymous");
    let dump = server.dump();
    assert_eq!(Statsd::counter(&dump, "trusted"), 4.0, "{dump:#}");
    // With TLS 1.3 the client's write succeeds before stunnel rejects its certificate, so only
    // the server can tell: nothing arrived.
    assert_eq!(Statsd::counter(&dump, "rogue"), 0.0, "{dump:#}");
    assert_eq!(Statsd::counter(&dump, "anonymous"), 0.0, "{dump:#}");
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let Some(server) = Statsd::start(false) else { return };
    let certs = support::certs();
    let wrong = StatsdConfig::tls(format!("127.0.0.1:{}", server.tls))
        .ca_file(certs.join("ca.crt"))
        .server_name("metrics.example.org");
    let metrics = send(wrong, "misdirected");
    let events = metrics.self_metrics();
    assert!(events.get(StatsdEvent::TlsError) >= 1, "the handshake failed");
    assert_eq!(events.get(StatsdEvent::PointsSent), 0);
    let lost = events.get(StatsdEvent::Shutdown) + events.get(StatsdEvent::CircuitOpen);
    assert!(lost >= 1, "the held point is given up (at shutdown, or when the breaker opens), counted");
    // The system's roots do not know the test CA either.
    let untrusted = StatsdConfig::tls(format!("127.0.0.1:{}", server.tls));
    let metrics = send(untrusted, "untrusted");
    assert!(metrics.self_metrics().get(StatsdEvent::TlsError) >= 1);
    let dump = server.dump();
    assert_eq!(Statsd::counter(&dump, "misdirected") + Statsd::counter(&dump, "untrusted"), 0.0, "{dump:#}");
}

#[test]
fn tls_settings_are_checked_when_configured() {
    let err = StatsdConfig::tcp("127.0.0.1:8125").ca_file("/nonexistent").build().unwrap_err().to_string();
    assert!(err.contains("need the TLS transport"), "{err}");
    let config = StatsdConfig::tls("127.0.0.1:8125").ca_file("/nonexistent/ca.pem").build().unwrap();
    let err = get_metrics(Backend::Statsd(config)).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}
