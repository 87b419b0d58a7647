//! OTLP with what every outbound client has: a real forward proxy (tinyproxy) for HTTP in
//! absolute form and for gRPC through a `CONNECT` tunnel, key pinning against the real
//! receiver's certificate, resource attributes through the sensitive-data guard, and OTLP
//! beside the Prometheus endpoint on one registry.
#![cfg(feature = "otlp")]

mod support;

use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, OtlpConfig, OtlpEvent};
use support::otlp::Receiver;
use support::proxy::Proxy;

#[test]
fn http_exports_go_through_the_proxy_in_absolute_form() {
    let (Some(rx), Some(proxy)) = (Receiver::start(&[]), Proxy::start(None)) else { return };
    let config = OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)).proxy(&proxy.url());
    let m = get_metrics(Backend::Otlp(config.build().unwrap())).unwrap();
    m.counter("proxied_jobs", "Jobs.").unwrap().inc_by(3);
    m.shutdown().unwrap();
    let log = proxy.log();
    assert!(
        log.contains(&format!("POST http://127.0.0.1:{}/v1/metrics", rx.http_port)),
        "not through the proxy:\n{log}"
    );
    let points = rx.points();
    assert_eq!(points.iter().find(|p| p["name"] == "proxied_jobs").unwrap()["value"], 3.0);
}

#[cfg(feature = "otlp-grpc")]
#[test]
fn grpc_exports_tunnel_through_the_proxy() {
    let (Some(rx), Some(proxy)) = (Receiver::start(&[]), Proxy::start(None)) else { return };
    let config = OtlpConfig::builder(&rx.grpc_url()).unwrap().interval(Duration::from_secs(3600)).proxy(&proxy.url());
    let m = get_metrics(Backend::Otlp(config.build().unwrap())).unwrap();
    m.counter("tunnelled_jobs", "Jobs.").unwrap().inc_by(5);
    m.shutdown().unwrap();
    let log = proxy.log();
    assert!(
        log.contains(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", rx.grpc_port)),
        "no CONNECT in the proxy's log:\n{log}"
    );
    assert_eq!(rx.requests()[0]["transport"], "grpc");
    assert_eq!(rx.points().iter().find(|p| p["name"] == "tunnelled_jobs").unwrap()["value"], 5.0);
}

#[cfg(feature = "tls")]
fn openssl_pin(cert: &std::path::Path) -> String {
    let cmd = format!(
        "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let out = std::process::Command::new("sh").args(["-c", &cmd]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[cfg(feature = "tls")]
#[test]
fn pins_are_checked_on_top_of_verification() {
    if !support::tool("openssl", "version") {
        return;
    }
    let certs = support::certs();
    let Some(rx) = Receiver::start(&["--tls"]) else { return };
    let (right, wrong) = (openssl_pin(&certs.join("server.crt")), openssl_pin(&certs.join("rogue.crt")));
    let export = |pins: &[&str], name: &str| {
        let config = OtlpConfig::builder(&rx.url())
            .unwrap()
            .interval(Duration::from_secs(3600))
            .shutdown_budget(Duration::ZERO)
            .ca_file(certs.join("ca.crt"))
            .pin_sha256(pins.iter().copied());
        let m = get_metrics(Backend::Otlp(config.build().unwrap())).unwrap();
        m.counter(name, "Jobs.").unwrap().inc();
        let result = m.shutdown().map_err(|e| e.to_string());
        (result, m.self_metrics().get(OtlpEvent::PinMismatch))
    };
    let (ok, mismatches) = export(&[wrong.as_str(), right.as_str()], "pinned_jobs");
    assert_eq!((ok.is_ok(), mismatches), (true, 0), "{ok:?}");
    let (err, mismatches) = export(&[wrong.as_str()], "mispinned_jobs");
    assert!(err.is_err() && mismatches == 1, "{err:?} {mismatches}");
    let names: Vec<String> = rx.points().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"pinned_jobs".to_owned()) && !names.contains(&"mispinned_jobs".to_owned()), "{names:?}");
}

#[test]
fn resource_attributes_pass_the_sensitive_data_guard() {
    let Some(rx) = Receiver::start(&[]) else { return };
    let config = OtlpConfig::builder(&rx.url())
        .unwrap()
        .interval(Duration::from_secs(3600))
        .resource_attribute("service.name", "billing")
        .resource_attribute("deployer", "alice@example.com")
        .resource_attribute("build.key", "AKIAIOSFODNN7EXAMPLE")
        .resource_attribute("api_token", "short");
    let m = get_metrics(Backend::Otlp(config.build().unwrap())).unwrap();
    m.counter("guarded", "Guarded.").unwrap().inc();
    m.shutdown().unwrap();
    let points = rx.points();
    let resource = &points.iter().find(|p| p["name"] == "guarded").unwrap()["resource"];
    assert_eq!(resource["service.name"], "billing");
    assert_eq!(resource["deployer"], "[REDACTED]");
    assert_eq!(resource["build.key"], "[REDACTED]");
    assert!(resource.get("api_token").is_none(), "a key that names a secret is left out: {resource}");
    let dump = rx.script(&["dump"]);
    assert!(!dump.contains("alice@example.com") && !dump.contains("AKIAIOSFODNN7EXAMPLE"), "{dump}");
}

#[cfg(feature = "prometheus")]
#[test]
fn otlp_runs_beside_the_scrape_endpoint_on_one_registry() {
    let Some(rx) = Receiver::start(&[]) else { return };
    let (listener, addr) = support::http::loopback();
    let prometheus = codomyrmex_metrics::PrometheusConfig::builder().listener(listener).build().unwrap();
    let otlp = OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)).build().unwrap();
    let m = get_metrics(Backend::Multi(vec![Backend::Prometheus(prometheus), Backend::Otlp(otlp)])).unwrap();
    m.counter("both_ways", "Seen by both.").unwrap().inc_by(11);
    let scraped = String::from_utf8(support::http::get(addr, "/metrics").body).unwrap();
    assert!(scraped.contains("both_ways_total 11"), "{scraped}");
    m.shutdown().unwrap();
    assert_eq!(rx.points().iter().find(|p| p["name"] == "both_ways").unwrap()["value"], 11.0);
}
