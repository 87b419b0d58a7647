//! The exposition carries what the user configured: the policy's and registry's self-metrics
//! always, a backend's families only once that backend runs, `collector_errors` only once a
//! collector is registered.

use codomyrmex_metrics::{get_metrics, Backend, Format, Registry};

fn families(text: &str) -> Vec<&str> {
    text.lines().filter_map(|l| l.strip_prefix("# TYPE codomyrmex_metrics_")?.split(' ').next()).collect()
}

const BACKEND_FAMILIES: [&str; 4] = ["scrapes_total", "scrape_renders_total", "pushes_total", "statsd_points_total"];

#[test]
fn an_in_memory_registry_exposes_no_backend_families() {
    let m = get_metrics(Backend::InMemory).unwrap();
    let text = m.render(Format::PrometheusText);
    let found = families(&text);
    for f in BACKEND_FAMILIES.iter().chain(&["collector_errors_total"]) {
        assert!(!found.contains(f), "{f} without its backend: {found:?}");
    }
    assert!(!text.contains("statsd_sanitized"), "{text}");
    assert!(found.contains(&"label_values_redacted_total"), "{found:?}");
}

#[test]
fn a_collector_brings_its_error_family() {
    let r = Registry::default();
    r.register_collector(|| {}).unwrap();
    assert!(families(&r.render(Format::PrometheusText)).contains(&"collector_errors_total"));
}

#[cfg(feature = "statsd")]
#[test]
fn a_statsd_backend_brings_its_families() {
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let config = codomyrmex_metrics::StatsdConfig::udp(sink.local_addr().unwrap().to_string()).build().unwrap();
    let m = get_metrics(Backend::Statsd(config)).unwrap();
    let text = m.render(Format::PrometheusText);
    let found = families(&text);
    assert!(found.contains(&"statsd_points_total") && found.contains(&"statsd_send_errors_total"), "{found:?}");
    assert!(!found.contains(&"pushes_total") && !found.contains(&"scrapes_total"), "{found:?}");
    assert!(text.contains("codomyrmex_metrics_statsd_sanitized_total{reason=\"wire\"}"), "{text}");
    m.shutdown().unwrap();
}

#[cfg(feature = "prometheus")]
#[test]
fn a_scrape_endpoint_brings_its_families() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = codomyrmex_metrics::PrometheusConfig::builder().listener(listener).build().unwrap();
    let m = get_metrics(Backend::Prometheus(config)).unwrap();
    let found: Vec<String> = families(&m.render(Format::PrometheusText)).into_iter().map(str::to_owned).collect();
    assert!(
        found.iter().any(|f| f == "scrapes_total") && found.iter().any(|f| f == "scrape_renders_total"),
        "{found:?}"
    );
    assert!(!found.iter().any(|f| f.starts_with("statsd_") || f == "pushes_total"), "{found:?}");
    m.shutdown().unwrap();
}

#[cfg(feature = "pushgateway")]
#[test]
fn a_pushgateway_client_brings_its_family() {
    // Nothing listens there: the family appears when the client starts, not when a push lands.
    let config = codomyrmex_metrics::PushgatewayConfig::builder("http://127.0.0.1:9", "job")
        .unwrap()
        .interval(std::time::Duration::from_secs(3600))
        .build()
        .unwrap();
    let m = get_metrics(Backend::Pushgateway(config)).unwrap();
    let found: Vec<String> = families(&m.render(Format::PrometheusText)).into_iter().map(str::to_owned).collect();
    assert!(found.iter().any(|f| f == "pushes_total"), "{found:?}");
    drop(m);
}

/// Anyone can read the crate's self-metrics; nobody but the crate can count in them.
#[cfg(feature = "prometheus")]
#[test]
fn the_crates_own_counts_cannot_be_forged() {
    use codomyrmex_metrics::{Event, ScrapeEvent};
    let m = get_metrics(Backend::InMemory).unwrap();
    m.self_metrics().register::<ScrapeEvent>().add(ScrapeEvent::Served, 1_000);
    m.self_metrics().register::<Event>().add(Event::SeriesDropped, 1_000);
    assert_eq!(m.self_metrics().get(ScrapeEvent::Served), 0);
    assert_eq!(m.self_metrics().get(Event::SeriesDropped), 0);
    let text = m.render(Format::PrometheusText);
    assert!(!text.contains("scrapes_total"), "{text}");
}
