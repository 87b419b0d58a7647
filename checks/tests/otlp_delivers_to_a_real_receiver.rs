//! OTLP export against a real receiver built on the official OpenTelemetry protobuf
//! definitions (`tests/peers/otlp.sh`): values, attributes after the policy, resource, scope
//! and start times over HTTP, gzip, TLS and mTLS with an auth header; deltas that sum to the
//! totals; retries after a 503 with `Retry-After` and across a receiver that stops; partial
//! success counted; requests bounded in size.
#![cfg(feature = "otlp")]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use codomyrmex_metrics::{
    get_metrics, Backend, Buckets, Metrics, OtlpBuilder, OtlpCompression, OtlpConfig, OtlpEvent, Temporality,
};
use serde_json::Value;
use support::otlp::Receiver;

fn start(b: OtlpBuilder) -> Metrics {
    get_metrics(Backend::Otlp(b.build().unwrap())).unwrap()
}

fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn named<'a>(points: &'a [Value], name: &str) -> Vec<&'a Value> {
    points.iter().filter(|p| p["name"] == name).collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

#[test]
fn counters_gauges_and_histograms_arrive_with_their_values_labels_resource_and_start_times() {
    let Some(rx) = Receiver::start(&[]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .resource_attribute("service.name", "checkout")
            .resource_attribute("deployment.environment", "e2e"),
    );
    // Well after the exporter began, so a start time taken from the exporter would show.
    std::thread::sleep(Duration::from_millis(50));
    let before = now_nanos();
    let requests = m.counter_family("http_requests", "Requests served.", &["route", "note"]).unwrap();
    // A hostile value: the policy removes the control character, and that is what arrives.
    requests.with(&["/a", "x\"y\\z,{}=|#@\u{7}é"]).inc_by(7);
    requests.with(&["/b", "plain"]).inc_by(5);
    let created = now_nanos();
    m.gauge("temperature_celsius", "Temperature.").unwrap().set(21.5);
    let h = m.registry().histogram("latency_seconds", "Latency.", Buckets::new([0.1, 1.0, 10.0]).unwrap()).unwrap();
    for v in [0.05, 0.5, 0.7, 5.0, 50.0] {
        h.observe(v);
    }
    m.shutdown().unwrap();
    let points = rx.points();

    let a = named(&points, "http_requests").into_iter().find(|p| p["attributes"]["route"] == "/a").unwrap();
    assert_eq!(a["type"], "sum");
    assert_eq!(a["temporality"], "cumulative");
    assert_eq!(a["monotonic"], true);
    assert_eq!(a["value"], 7.0);
    assert_eq!(a["attributes"]["note"], "x\"y\\z,{}=|#@é", "the value as the policy rendered it");
    assert_eq!(a["resource"]["service.name"], "checkout");
    assert_eq!(a["resource"]["deployment.environment"], "e2e");
    assert_eq!(a["resource"]["telemetry.sdk.language"], "rust");
    assert_eq!(a["scope"], "codomyrmex-metrics");
    let start = u(&a["start_time_unix_nano"]);
    assert!((before..=created).contains(&start), "start {start} is the series' creation, in [{before}, {created}]");
    assert!(u(&a["time_unix_nano"]) >= start);
    let b = named(&points, "http_requests").into_iter().find(|p| p["attributes"]["route"] == "/b").unwrap();
    assert_eq!(b["value"], 5.0);

    let g = named(&points, "temperature_celsius");
    assert_eq!((g[0]["type"].as_str(), g[0]["value"].as_f64()), (Some("gauge"), Some(21.5)));

    let hp = named(&points, "latency_seconds");
    let hp = hp[0];
    assert_eq!(hp["type"], "histogram");
    assert_eq!(hp["count"], 5);
    assert_eq!(hp["explicit_bounds"], serde_json::json!([0.1, 1.0, 10.0]));
    assert_eq!(hp["bucket_counts"], serde_json::json!([1, 2, 1, 1]));
    assert!((hp["sum"].as_f64().unwrap() - 56.25).abs() < 1e-9);
    assert_eq!(m.self_metrics().get(OtlpEvent::Sent), 1);
}

#[test]
fn gzip_and_a_required_header_and_a_missing_one_is_refused_not_retried() {
    let Some(rx) = Receiver::start(&["--require-header", "authorization=Bearer t0k"]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .compression(OtlpCompression::Gzip)
            .header("Authorization", "Bearer t0k"),
    );
    m.counter("jobs", "Jobs.").unwrap().inc_by(3);
    m.shutdown().unwrap();
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0]["compression"], "gzip");
    assert_eq!(reqs[0]["transport"], "http");
    assert_eq!(named(&rx.points(), "jobs")[0]["value"], 3.0);
    assert!(!format!("{m:?}").contains("t0k"), "no secret in Debug");

    let m = start(OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)));
    m.counter("jobs", "Jobs.").unwrap().inc();
    assert!(m.shutdown().is_err(), "a 401 is an error");
    let refused = rx.rejected();
    assert_eq!(refused.len(), 1, "not retried: {refused:#?}");
    assert_eq!(refused[0]["reason"], "unauthenticated");
    assert_eq!(m.self_metrics().get(OtlpEvent::Failed), 1);
    assert_eq!(m.self_metrics().get(OtlpEvent::Retried), 0);
    assert_eq!(m.self_metrics().get(OtlpEvent::PointsDropped), 1);
}

#[cfg(feature = "tls")]
#[test]
fn tls_verified_and_mutual_tls() {
    let certs = support::certs();
    let Some(rx) = Receiver::start(&["--tls"]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)).ca_file(certs.join("ca.crt")),
    );
    m.counter("secure_jobs", "Jobs.").unwrap().inc_by(2);
    m.shutdown().unwrap();
    assert_eq!(rx.requests()[0]["tls"], true);
    assert_eq!(named(&rx.points(), "secure_jobs")[0]["value"], 2.0);

    // Without the test CA the receiver's certificate is not trusted: nothing is sent.
    let m = start(
        OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)).shutdown_budget(Duration::ZERO),
    );
    m.counter("untrusted", "Jobs.").unwrap().inc();
    assert!(m.shutdown().is_err());
    assert!(named(&rx.points(), "untrusted").is_empty());

    let Some(rx) = Receiver::start(&["--mtls"]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .ca_file(certs.join("ca.crt"))
            .client_cert(certs.join("client.crt"), certs.join("client.key")),
    );
    m.counter("mutual_jobs", "Jobs.").unwrap().inc_by(4);
    m.shutdown().unwrap();
    let reqs = rx.requests();
    assert!(reqs[0]["client_cert_cn"].as_str().is_some_and(|cn| !cn.is_empty()), "{reqs:#?}");
    assert_eq!(named(&rx.points(), "mutual_jobs")[0]["value"], 4.0);
}

#[test]
fn delta_points_sum_to_the_cumulative_values_and_chain_their_start_times() {
    let Some(rx) = Receiver::start(&[]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_millis(150)).temporality(Temporality::Delta),
    );
    let c = m.counter("deliveries", "Deliveries.").unwrap();
    let h = m.registry().histogram("sizes", "Sizes.", Buckets::new([10.0, 100.0]).unwrap()).unwrap();
    let mut total = 0u64;
    for i in 0..20u64 {
        c.inc_by(i);
        h.observe((i * 7) as f64);
        total += i;
        std::thread::sleep(Duration::from_millis(40));
    }
    m.shutdown().unwrap();
    let points = rx.points();
    let deltas = named(&points, "deliveries");
    assert!(deltas.len() >= 3, "several exports: {}", deltas.len());
    assert!(deltas.iter().all(|p| p["temporality"] == "delta"));
    let sum: f64 = deltas.iter().map(|p| p["value"].as_f64().unwrap()).sum();
    assert_eq!(sum, total as f64);
    for pair in deltas.windows(2) {
        assert_eq!(
            pair[1]["start_time_unix_nano"], pair[0]["time_unix_nano"],
            "each delta starts where the last ended"
        );
    }
    let hs = named(&points, "sizes");
    let count: u64 = hs.iter().map(|p| u(&p["count"])).sum();
    assert_eq!(count, 20);
}

#[test]
fn a_503_with_retry_after_is_retried_after_the_wait_and_delivered_once() {
    let Some(rx) = Receiver::start(&["--fail-first", "2", "--fail-status", "503", "--retry-after", "1"]) else {
        return;
    };
    let m = start(
        OtlpConfig::builder(&rx.url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .backoff(Duration::from_millis(50), Duration::from_secs(5))
            .shutdown_budget(Duration::from_secs(10)),
    );
    m.counter("retried_jobs", "Jobs.").unwrap().inc_by(9);
    m.shutdown().unwrap();
    let refused = rx.rejected();
    let accepted = rx.requests();
    assert_eq!((refused.len(), accepted.len()), (2, 1), "{refused:#?} {accepted:#?}");
    let gap = u(&accepted[0]["arrival_unix_nano"]) - u(&refused[1]["arrival_unix_nano"]);
    assert!(gap >= 900_000_000, "Retry-After: 1 was honoured: {gap} ns");
    assert_eq!(named(&rx.points(), "retried_jobs")[0]["value"], 9.0);
    assert_eq!(m.self_metrics().get(OtlpEvent::Retried), 2);
    assert_eq!(m.self_metrics().get(OtlpEvent::Sent), 1);
}

#[test]
fn partial_success_is_read_and_counted() {
    let Some(rx) = Receiver::start(&["--partial-reject", "1"]) else { return };
    let m = start(OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)));
    m.counter("a_total_things", "Things.").unwrap().inc();
    m.gauge("b_level", "Level.").unwrap().set(2.0);
    m.shutdown().unwrap();
    assert_eq!(rx.requests().len(), 1, "a partial success is not retried");
    assert_eq!(m.self_metrics().get(OtlpEvent::PointsRejected), 1);
    assert_eq!(m.self_metrics().get(OtlpEvent::PointsSent), 1);
}

#[test]
fn a_receiver_stopped_for_ten_seconds_loses_no_delta() {
    let Some(rx) = Receiver::start(&[]) else { return };
    let m = start(
        OtlpConfig::builder(&rx.url())
            .unwrap()
            .interval(Duration::from_millis(300))
            .timeout(Duration::from_millis(500))
            .backoff(Duration::from_millis(50), Duration::from_millis(200))
            .temporality(Temporality::Delta),
    );
    let c = m.counter("steady", "Steady.").unwrap();
    c.inc_by(10);
    let first = rx.wait_for(Duration::from_secs(10), "the first export", |p| !named(p, "steady").is_empty());
    rx.stop();
    let recording = std::time::Instant::now();
    for _ in 0..100 {
        c.inc(); // never blocks while the receiver is away
    }
    assert!(recording.elapsed() < Duration::from_millis(100), "recording waited: {:?}", recording.elapsed());
    std::thread::sleep(Duration::from_secs(10));
    rx.restart();
    c.inc_by(5);
    rx.wait_for(Duration::from_secs(20), "delivery after the restart", |p| {
        named(p, "steady").iter().map(|p| p["value"].as_f64().unwrap()).sum::<f64>() >= 105.0
    });
    m.shutdown().unwrap();
    let sum: f64 = [first, rx.points()]
        .iter()
        .flat_map(|ps| named(ps, "steady").into_iter().map(|p| p["value"].as_f64().unwrap()).collect::<Vec<_>>())
        .sum();
    assert_eq!(sum, 115.0, "every increment arrived exactly once");
    assert!(m.self_metrics().get(OtlpEvent::Failed) > 0, "exports failed while it was away");
}

#[test]
fn a_large_export_is_split_into_bounded_requests_and_every_point_arrives() {
    let Some(rx) = Receiver::start(&[]) else { return };
    let m = start(OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)).max_request_bytes(8192));
    let f = m.counter_family("split_series", "Series.", &["id"]).unwrap();
    for i in 0..1_000 {
        f.with(&[&format!("series-{i:04}")]).inc_by(i);
    }
    m.shutdown().unwrap();
    let reqs = rx.requests();
    assert!(reqs.len() > 3, "{}", reqs.len());
    assert!(
        reqs.iter().all(|r| u(&r["body_bytes"]) <= 8192),
        "{:?}",
        reqs.iter().map(|r| &r["body_bytes"]).collect::<Vec<_>>()
    );
    let points = named(&rx.points(), "split_series").len();
    assert_eq!(points, 1_000);
}
