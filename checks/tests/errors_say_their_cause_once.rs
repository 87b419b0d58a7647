//! An error states its cause once, with what the user needs to act on it: a scrape endpoint
//! that cannot bind says so once, and names the address (it once said "failed to start" three
//! times and never which address).

#[cfg(feature = "prometheus")]
#[test]
fn a_bind_failure_names_the_address_once() {
    use codomyrmex_metrics::{get_metrics, Backend, PrometheusConfig};
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let config = PrometheusConfig::builder().listen(addr).build().unwrap();
    let err = get_metrics(Backend::Prometheus(config)).unwrap_err().to_string();
    assert_eq!(err.matches("failed to start").count(), 1, "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

/// No phrase of two words or more appears twice in `text` (it once said "environment variable
/// … is invalid: environment variable … is invalid").
#[cfg(feature = "pushgateway")]
fn assert_said_once(text: &str) {
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        let phrase = w.join(" ");
        assert_eq!(text.matches(&phrase).count(), 1, "{phrase:?} is said twice in: {text}");
    }
}

#[cfg(feature = "pushgateway")]
#[test]
fn push_failures_say_their_cause_once() {
    use std::time::Duration;

    use codomyrmex_metrics::{get_metrics, Backend, PushgatewayConfig};
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = refused.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in refused.incoming().take(8) {
            let mut s = s.unwrap();
            let _ = s.read(&mut [0u8; 4096]);
            let _ = s.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let cases = [
        PushgatewayConfig::builder(&format!("http://{dead}"), "j").unwrap(),
        PushgatewayConfig::builder("http://127.0.0.1:9", "j").unwrap().proxy(&format!("http://{proxy}")),
    ];
    for b in cases {
        let b = b.interval(Duration::from_secs(3600)).timeout(Duration::from_secs(2)).shutdown_budget(Duration::ZERO);
        let m = get_metrics(Backend::Pushgateway(b.build().unwrap())).unwrap();
        let err = m.shutdown().unwrap_err().to_string();
        assert_said_once(&err);
        assert!(err.contains("Pushgateway") || err.contains("proxy"), "{err}");
    }
}

#[cfg(all(feature = "statsd", feature = "pushgateway"))]
#[test]
fn configuration_errors_say_their_cause_once() {
    use codomyrmex_metrics::{Backend, PushgatewayConfig, StatsdConfig};
    let errors = [
        StatsdConfig::udp("198.51.100.7:8125").allowed_hosts(["a.internal"]).build().unwrap_err().to_string(),
        PushgatewayConfig::builder("http://h:1", "j").unwrap().proxy("socks5://p:1").build().unwrap_err().to_string(),
        PushgatewayConfig::builder("http://127.0.0.1:1", "j")
            .unwrap()
            .basic_auth("u", "p")
            .bearer_token("t")
            .build()
            .unwrap_err()
            .to_string(),
        Backend::from_env_with(|k| match k {
            "CODOMYRMEX_METRICS_BACKEND" => Some("statsd://203.0.113.1:8125".into()),
            "CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS" => Some("127.0.0.1".into()),
            _ => None,
        })
        .unwrap_err()
        .to_string(),
    ];
    for e in errors {
        assert_said_once(&e);
    }
}
