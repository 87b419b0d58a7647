//! OTLP/gRPC against the real receiver (`tests/peers/otlp.sh`, grpcio on the official
//! protobuf definitions): values, gzip and an auth header in the metadata, mutual TLS through
//! the crate's own rustls settings, UNAVAILABLE with RetryInfo retried after the wait,
//! UNAUTHENTICATED refused without a retry, partial success counted.
#![cfg(feature = "otlp-grpc")]

mod support;

use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, Metrics, OtlpBuilder, OtlpCompression, OtlpConfig, OtlpEvent};
use serde_json::Value;
use support::otlp::Receiver;

fn start(b: OtlpBuilder) -> Metrics {
    get_metrics(Backend::Otlp(b.build().unwrap())).unwrap()
}

fn named<'a>(points: &'a [Value], name: &str) -> Vec<&'a Value> {
    points.iter().filter(|p| p["name"] == name).collect()
}

#[test]
fn values_arrive_over_grpc_with_gzip_and_the_auth_header() {
    let Some(rx) = Receiver::start(&["--require-header", "authorization=Bearer g0k"]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.grpc_url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .compression(OtlpCompression::Gzip)
            .header("authorization", "Bearer g0k"),
    );
    let f = m.counter_family("grpc_jobs", "Jobs.", &["queue"]).unwrap();
    f.with(&["mail"]).inc_by(6);
    m.gauge("grpc_level", "Level.").unwrap().set(-2.5);
    m.shutdown().unwrap();
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!((reqs[0]["transport"].as_str(), reqs[0]["compression"].as_str()), (Some("grpc"), Some("gzip")));
    let points = rx.points();
    let jobs = named(&points, "grpc_jobs");
    assert_eq!((jobs[0]["value"].as_f64(), jobs[0]["attributes"]["queue"].as_str()), (Some(6.0), Some("mail")));
    assert_eq!(named(&points, "grpc_level")[0]["value"], -2.5);
    assert_eq!(m.self_metrics().get(OtlpEvent::Sent), 1);

    // Without the header: UNAUTHENTICATED, refused, not retried.
    let m = start(OtlpConfig::builder(&rx.grpc_url()).unwrap().interval(Duration::from_secs(3600)));
    m.counter("grpc_jobs", "Jobs.").unwrap().inc();
    let err = m.shutdown().unwrap_err().to_string();
    assert!(err.contains("UNAUTHENTICATED"), "{err}");
    assert_eq!(rx.rejected().len(), 1);
    assert_eq!(m.self_metrics().get(OtlpEvent::Retried), 0);
}

#[test]
fn unavailable_with_retry_info_is_retried_after_the_wait() {
    let Some(rx) = Receiver::start(&["--fail-first", "2", "--fail-status", "503", "--retry-after", "1"]) else {
        return;
    };
    let m = start(
        OtlpConfig::builder(&rx.grpc_url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .backoff(Duration::from_millis(50), Duration::from_secs(5))
            .shutdown_budget(Duration::from_secs(10)),
    );
    m.counter("grpc_retried", "Jobs.").unwrap().inc_by(4);
    m.shutdown().unwrap();
    let (refused, accepted) = (rx.rejected(), rx.requests());
    assert_eq!((refused.len(), accepted.len()), (2, 1), "{refused:#?} {accepted:#?}");
    assert_eq!(refused[0]["status"], "UNAVAILABLE");
    let at = |v: &Value| v["arrival_unix_nano"].as_u64().unwrap();
    let gap = at(&accepted[0]) - at(&refused[1]);
    assert!(gap >= 900_000_000, "RetryInfo's 1 s was honoured: {gap} ns");
    assert_eq!(named(&rx.points(), "grpc_retried")[0]["value"], 4.0);
    assert_eq!(m.self_metrics().get(OtlpEvent::Retried), 2);
}

#[test]
fn partial_success_over_grpc_is_counted() {
    let Some(rx) = Receiver::start(&["--partial-reject", "1"]) else { return };
    let m = start(OtlpConfig::builder(&rx.grpc_url()).unwrap().interval(Duration::from_secs(3600)));
    m.counter("grpc_a", "A.").unwrap().inc();
    m.counter("grpc_b", "B.").unwrap().inc();
    m.shutdown().unwrap();
    assert_eq!(m.self_metrics().get(OtlpEvent::PointsRejected), 1);
    assert_eq!(m.self_metrics().get(OtlpEvent::PointsSent), 1);
}

#[cfg(feature = "tls")]
#[test]
fn mutual_tls_over_grpc() {
    let certs = support::certs();
    let Some(rx) = Receiver::start(&["--mtls"]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.grpc_url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .ca_file(certs.join("ca.crt"))
            .client_cert(certs.join("client.crt"), certs.join("client.key")),
    );
    m.counter("grpc_secure", "Jobs.").unwrap().inc_by(8);
    m.shutdown().unwrap();
    let reqs = rx.requests();
    assert_eq!(reqs[0]["tls"], true, "{reqs:#?}");
    assert!(reqs[0]["client_cert_cn"].as_str().is_some_and(|cn| !cn.is_empty()), "{reqs:#?}");
    assert_eq!(named(&rx.points(), "grpc_secure")[0]["value"], 8.0);

    // Without a client certificate the handshake is refused: an error, nothing arrives.
    let m = start(
        OtlpConfig::builder(&rx.grpc_url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .ca_file(certs.join("ca.crt"))
            .shutdown_budget(Duration::ZERO),
    );
    m.counter("grpc_no_cert", "Jobs.").unwrap().inc();
    assert!(m.shutdown().is_err());
    assert!(named(&rx.points(), "grpc_no_cert").is_empty());
}
