//! The real Pushgateway (Debian's 1.5.1) receives pushes: values read back, grouping labels with
//! `/` and empty values, the last push at shutdown, DELETE, PUT versus POST, and delivery after
//! the gateway comes back, without ever blocking the code that records.
#![cfg(feature = "pushgateway")]

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use codomyrmex_metrics::PushEvent;
use codomyrmex_metrics::{
    get_metrics, Backend, CircuitBreaker, Metrics, PushMethod, PushgatewayBuilder, PushgatewayConfig,
};
use support::pushgateway::{free_port, Gateway, Listen};

fn start(b: PushgatewayBuilder) -> Metrics {
    get_metrics(Backend::Pushgateway(b.build().unwrap())).unwrap()
}

#[test]
fn pushes_arrive_with_grouping_labels_that_have_slashes_or_are_empty() {
    let Some(gw) = Gateway::start() else { return };
    let b = PushgatewayConfig::builder(&gw.url(), "e2e_batch")
        .unwrap()
        .grouping_label("path", "/var/tmp")
        .unwrap()
        .grouping_label("shard", "")
        .unwrap()
        .interval(Duration::from_millis(200));
    let m = start(b);
    m.counter_family("records_processed", "Records.", &["kind"]).unwrap().with(&["a"]).inc_by(12);
    let line = gw.wait_for("records_processed_total", &["job=\"e2e_batch\"", "path=\"/var/tmp\"", "kind=\"a\""]);
    assert!(line.ends_with(" 12"), "{line}");
    m.shutdown().unwrap();
}

#[test]
fn the_last_values_are_pushed_at_shutdown() {
    let Some(gw) = Gateway::start() else { return };
    let m = start(PushgatewayConfig::builder(&gw.url(), "e2e_final").unwrap().interval(Duration::from_secs(3600)));
    let c = m.counter("rows_exported", "Rows.").unwrap();
    c.inc_by(5);
    assert!(gw.lines("rows_exported_total").is_empty());
    m.shutdown().unwrap();
    let line = gw.wait_for("rows_exported_total", &["job=\"e2e_final\""]);
    assert!(line.ends_with(" 5"), "{line}");
    assert_eq!(m.self_metrics().get(PushEvent::Sent), 1);
}

#[test]
fn delete_on_shutdown_removes_the_group() {
    let Some(gw) = Gateway::start() else { return };
    let m = start(
        PushgatewayConfig::builder(&gw.url(), "e2e_delete")
            .unwrap()
            .interval(Duration::from_millis(100))
            .delete_on_shutdown(true),
    );
    m.gauge("temp_files", "Files.").unwrap().set(3.0);
    gw.wait_for("temp_files", &["job=\"e2e_delete\""]);
    m.shutdown().unwrap();
    assert!(gw.lines("temp_files").is_empty(), "{:?}", gw.lines("temp_files"));
    assert_eq!(m.self_metrics().get(PushEvent::Deleted), 1);
}

#[test]
fn put_replaces_the_group_and_post_merges_into_it() {
    let Some(gw) = Gateway::start() else { return };
    let push_once = |method: PushMethod, name: &str| {
        let m = start(
            PushgatewayConfig::builder(&gw.url(), "e2e_methods")
                .unwrap()
                .method(method)
                .interval(Duration::from_secs(3600)),
        );
        m.gauge(name, "A gauge.").unwrap().set(1.0);
        m.shutdown().unwrap();
    };
    push_once(PushMethod::Put, "first_gauge");
    push_once(PushMethod::Post, "second_gauge");
    assert_eq!(gw.lines("first_gauge").len(), 1);
    assert_eq!(gw.lines("second_gauge").len(), 1);
    push_once(PushMethod::Put, "third_gauge");
    assert!(gw.lines("first_gauge").is_empty() && gw.lines("second_gauge").is_empty());
    assert_eq!(gw.lines("third_gauge").len(), 1);
}

#[test]
fn with_the_gateway_down_recording_never_blocks_and_values_arrive_once_it_is_back() {
    let port = free_port();
    if !support::tool("prometheus-pushgateway", "--version") {
        return;
    }
    let url = format!("http://127.0.0.1:{port}");
    let m = start(
        PushgatewayConfig::builder(&url, "e2e_outage")
            .unwrap()
            .interval(Duration::from_millis(200))
            .backoff(Duration::from_millis(20), Duration::from_millis(100))
            // Opens within the outage; its probe finds the gateway back half a second later.
            .circuit_breaker(CircuitBreaker::new(5, Duration::from_millis(500))),
    );
    let c = m.counter("outage_events", "Events.").unwrap();
    let started = Instant::now();
    for _ in 0..100_000 {
        c.inc();
    }
    assert!(started.elapsed() < Duration::from_millis(500), "recording took {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(600)); // a few failed pushes and retries
    assert!(m.self_metrics().get(PushEvent::Retried) > 0);
    let Some(gw) = Gateway::on(port, Listen::Http) else { return };
    let line = gw.wait_for("outage_events_total", &["job=\"e2e_outage\""]);
    assert!(line.ends_with(" 100000"), "{line}");
    m.shutdown().unwrap();
}

/// A one-request HTTP listener that records what it got; for headers the gateway does not show.
fn capture_one() -> (SocketAddr, std::thread::JoinHandle<String>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        String::from_utf8_lossy(&got).into_owned()
    });
    (addr, h)
}

#[test]
fn credentials_travel_in_the_authorization_header_and_never_over_clear_text_to_other_hosts() {
    let (addr, seen) = capture_one();
    let m = start(
        PushgatewayConfig::builder(&format!("http://{addr}"), "e2e_auth")
            .unwrap()
            .bearer_token("push-token-123")
            .interval(Duration::from_secs(3600)),
    );
    m.shutdown().unwrap();
    let request = seen.join().unwrap();
    assert!(request.starts_with("PUT /metrics/job/e2e_auth HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("authorization: Bearer push-token-123\r\n"), "{request}");
    assert!(request.contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"), "{request}");
    let err = PushgatewayConfig::builder("http://pgw.example.com:9091", "j")
        .unwrap()
        .basic_auth("u", "p")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("clear text") && !err.to_string().contains("\"p\""), "{err}");
    assert!(PushgatewayConfig::builder("http://u:p@127.0.0.1:9091", "j").is_err());
}

#[test]
fn pushgateway_urls_and_environment() {
    let env: HashMap<&str, &str> = HashMap::from([("CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS", "2.5")]);
    let lookup = |k: &str| env.get(k).map(|v| (*v).to_owned());
    let b = Backend::from_url_with("pushgateway://127.0.0.1:9091/job/nightly/instance/db-1", &lookup).unwrap();
    assert!(matches!(b, Backend::Pushgateway(_)), "{b:?}");
    let err = Backend::from_url_with("pushgateway://127.0.0.1:9091/nojob", &lookup).unwrap_err().to_string();
    assert!(err.contains("/job/NAME"), "{err}");
    assert!(Backend::from_url_with("pushgateway://127.0.0.1:9091/job/a/odd", &lookup).is_err());
    assert!(Backend::from_url_with("pushgateway://u:secret@127.0.0.1:9091/job/a", &lookup)
        .unwrap_err()
        .to_string()
        .contains("PUSH_USER"));
    let bad = HashMap::from([("CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS", "soon")]);
    let err =
        Backend::from_url_with("pushgateway://127.0.0.1:9091/job/a", &|k: &str| bad.get(k).map(|v| (*v).to_owned()))
            .unwrap_err();
    assert!(err.to_string().contains("CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS"), "{err}");
}

#[test]
fn a_gateway_that_never_answers_costs_the_timeout_and_the_shutdown_budget_no_more() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        // Accept and read, never answer, until the client gives up.
        let mut held = Vec::new();
        silent.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok((s, _)) = silent.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        held.len()
    });
    let m = start(
        PushgatewayConfig::builder(&format!("http://{addr}"), "e2e_silent")
            .unwrap()
            .interval(Duration::from_secs(3600))
            .timeout(Duration::from_millis(200))
            .shutdown_budget(Duration::from_millis(900))
            .backoff(Duration::from_millis(50), Duration::from_millis(200)),
    );
    m.counter("silent_total", "h").unwrap().inc();
    let started = Instant::now();
    let err = m.shutdown().unwrap_err().to_string();
    let took = started.elapsed();
    assert!(err.contains("did not answer within"), "{err}");
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert!(m.self_metrics().get(PushEvent::Retried) >= 1);
    assert_eq!(m.self_metrics().get(PushEvent::Failed), 1);
    assert!(hold.join().unwrap() >= 2, "the client should have retried");
}
