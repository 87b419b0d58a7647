//! The backends this build has, each used as its documented example does, against real
//! sockets on 127.0.0.1.

#[allow(unused_imports)]
use crate::support::{memory, value_of};

pub const CHECKS: &[crate::Check] = &[
    ("backend URLs parse, and a missing feature is named", urls),
    ("the exposition carries only the self-metrics of what runs", self_metrics_follow_backends),
    #[cfg(feature = "prometheus")]
    ("the scrape endpoint serves a scrape", prometheus::scrape),
    #[cfg(feature = "statsd")]
    ("StatsD sends lines over UDP", statsd::udp),
    #[cfg(feature = "statsd")]
    ("the StatsD breaker opens against a dead server, dropping and counting", statsd::breaker),
    #[cfg(feature = "pushgateway")]
    ("the Pushgateway client pushes on shutdown", pushgateway::push),
    #[cfg(feature = "pushgateway")]
    ("a push goes through the proxy in absolute form, with its credentials", pushgateway::proxied),
    #[cfg(any(feature = "pushgateway", feature = "statsd"))]
    ("a backend host off the allowlist is a configuration error", allowed_hosts),
    #[cfg(feature = "otlp")]
    ("the OTLP exporter posts protobuf to /v1/metrics on shutdown", otlp),
    #[cfg(feature = "process")]
    ("process metrics are read from /proc", process),
];

fn urls() {
    use codomyrmex_metrics::Backend;
    assert!(matches!(Backend::from_url("memory://").unwrap(), Backend::InMemory));
    assert!(Backend::from_url("bogus://x").is_err());
    let e = Backend::from_url("statsd://127.0.0.1:8125");
    if cfg!(feature = "statsd") {
        assert!(e.is_ok(), "{e:?}");
    } else {
        let msg = e.unwrap_err().to_string();
        assert!(msg.contains("`statsd`"), "{msg}");
    }
    let e = Backend::from_url("prometheus://127.0.0.1:0/metrics");
    assert_eq!(e.is_ok(), cfg!(feature = "prometheus"), "{e:?}");
    let e = Backend::from_url("pushgateway://127.0.0.1:9091/job/x");
    assert_eq!(e.is_ok(), cfg!(feature = "pushgateway"), "{e:?}");
    let e = Backend::from_url("otlp+http://127.0.0.1:4318");
    assert_eq!(e.is_ok(), cfg!(feature = "otlp"), "{e:?}");
    let e = Backend::from_url("otlp+grpc://127.0.0.1:4317");
    assert_eq!(e.is_ok(), cfg!(feature = "otlp-grpc"), "{e:?}");
}

fn self_metrics_follow_backends() {
    let m = memory();
    m.counter("c", "h").unwrap().inc();
    let t = m.render(codomyrmex_metrics::Format::PrometheusText);
    for family in ["statsd_", "pushes_total", "scrapes_total", "scrape_renders_total", "otlp_requests_total"] {
        assert!(!t.contains(&format!("codomyrmex_metrics_{family}")), "{family} without its backend:\n{t}");
    }
}

#[cfg(feature = "prometheus")]
mod prometheus {
    use std::io::{Read, Write};

    use codomyrmex_metrics::{get_metrics, Backend, PrometheusConfig};

    pub fn scrape() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let config = PrometheusConfig::builder().listener(listener).build().unwrap();
        let m = get_metrics(Backend::Prometheus(config)).unwrap();
        m.counter_family("served", "h", &["route"]).unwrap().with(&["/api/v1/users/{id}"]).inc();
        let addr = m.local_addrs()[0];
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(body.contains("served_total{route=\"/api/v1/users/{id}\"} 1\n"), "{body}");
        assert!(body.contains("codomyrmex_metrics_scrapes_total"), "{body}");
        m.shutdown().unwrap();
    }
}

#[cfg(any(feature = "pushgateway", feature = "statsd"))]
fn allowed_hosts() {
    let list = ["*.metrics.internal", "127.0.0.1"];
    #[cfg(feature = "statsd")]
    {
        use codomyrmex_metrics::StatsdConfig;
        StatsdConfig::udp("agent.metrics.internal:8125").allowed_hosts(list).build().unwrap();
        let e = StatsdConfig::udp("198.51.100.7:8125").allowed_hosts(list).build().unwrap_err().to_string();
        assert!(e.contains("not in the allowed backend hosts"), "{e}");
    }
    #[cfg(feature = "pushgateway")]
    {
        use codomyrmex_metrics::PushgatewayConfig;
        let b = PushgatewayConfig::builder("http://gw.attacker.example:9091", "j").unwrap();
        let e = b.allowed_hosts(list).build().unwrap_err().to_string();
        assert!(e.contains("\"gw.attacker.example\" is not in the allowed backend hosts"), "{e}");
    }
    let vars = |k: &str| match k {
        "CODOMYRMEX_METRICS_BACKEND" => Some(if cfg!(feature = "statsd") {
            "statsd://203.0.113.9:8125".to_owned()
        } else {
            "pushgateway://203.0.113.9:9091/job/x".to_owned()
        }),
        "CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS" => Some("127.0.0.1".to_owned()),
        _ => None,
    };
    let e = codomyrmex_metrics::Backend::from_env_with(vars).unwrap_err().to_string();
    assert!(e.contains("CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS"), "{e}");
}

#[cfg(feature = "statsd")]
mod statsd {
    use std::time::{Duration, Instant};

    use codomyrmex_metrics::{get_metrics, Backend, CircuitBreaker, StatsdConfig, StatsdEvent};

    pub fn breaker() {
        // A port that was just free: connects are refused.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let config = StatsdConfig::tcp(dead.to_string())
            .flush_interval(Duration::from_millis(20))
            .backoff(Duration::from_millis(5), Duration::from_millis(10))
            .circuit_breaker(CircuitBreaker::new(3, Duration::from_secs(60)))
            .build()
            .unwrap();
        let m = get_metrics(Backend::Statsd(config)).unwrap();
        let c = m.counter("jobs", "Jobs.").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while m.self_metrics().get(StatsdEvent::CircuitOpen) == 0 {
            assert!(Instant::now() < deadline, "the breaker never opened");
            c.inc();
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(m.self_metrics().get(StatsdEvent::CircuitOpened), 1);
        assert!(m.self_metrics().get(StatsdEvent::ConnectError) >= 3);
        m.shutdown().unwrap();
    }

    pub fn udp() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let config = StatsdConfig::udp(server.local_addr().unwrap().to_string())
            .flush_interval(Duration::from_millis(50))
            .build()
            .unwrap();
        let m = get_metrics(Backend::Statsd(config)).unwrap();
        m.counter_family("orders", "h", &["topic"]).unwrap().with(&["orders.v2.payment-events"]).inc_by(3);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = String::new();
        let mut buf = [0u8; 2048];
        while !got.contains("|c") && Instant::now() < deadline {
            if let Ok(n) = server.recv(&mut buf) {
                got.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        assert!(got.contains("orders") && got.contains(":3|c"), "{got:?}");
        m.shutdown().unwrap();
    }
}

#[cfg(feature = "pushgateway")]
mod pushgateway {
    use codomyrmex_metrics::{get_metrics, Backend, PushgatewayConfig};

    fn one_request(listener: std::net::TcpListener) -> std::thread::JoinHandle<String> {
        let got = crate::support::one_request(listener);
        std::thread::spawn(move || String::from_utf8(got.join().unwrap()).unwrap())
    }

    /// The listener is the proxy: a plain-HTTP push reaches it in absolute form.
    pub fn proxied() {
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy_url = format!("http://pusher:proxy-secret-1@{}", proxy.local_addr().unwrap());
        let server = one_request(proxy);
        let config = PushgatewayConfig::builder("http://127.0.0.1:9", "via-proxy")
            .unwrap()
            .proxy(&proxy_url)
            .interval(std::time::Duration::from_secs(3600))
            .build()
            .unwrap();
        assert!(!format!("{config:?}").contains("proxy-secret-1"), "{config:?}");
        let m = get_metrics(Backend::Pushgateway(config)).unwrap();
        m.counter("rows_copied", "Rows copied.").unwrap().inc();
        m.shutdown().unwrap();
        let got = server.join().unwrap();
        assert!(got.starts_with("PUT http://127.0.0.1:9/metrics/job/via-proxy HTTP/1.1"), "{got}");
        // base64("pusher:proxy-secret-1")
        assert!(got.contains("proxy-authorization: Basic cHVzaGVyOnByb3h5LXNlY3JldC0x\r\n"), "{got}");
    }

    pub fn push() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = one_request(listener);
        let config = PushgatewayConfig::builder(&url, "nightly-backup")
            .unwrap()
            .interval(std::time::Duration::from_secs(3600))
            .build()
            .unwrap();
        let m = get_metrics(Backend::Pushgateway(config)).unwrap();
        m.counter("rows_copied", "Rows copied.").unwrap().inc_by(42);
        m.shutdown().unwrap();
        let got = server.join().unwrap();
        assert!(got.starts_with("PUT /metrics/job/nightly-backup "), "{got}");
        assert!(got.contains("rows_copied_total 42\n"), "{got}");
    }
}

/// A real socket stands in for the receiver: the request line, the content type, and the
/// metric's name in the protobuf body.
#[cfg(feature = "otlp")]
fn otlp() {
    use codomyrmex_metrics::{get_metrics, Backend, OtlpConfig, OtlpEvent};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = crate::support::one_request(listener);
    let config = OtlpConfig::builder(&url).unwrap().interval(std::time::Duration::from_secs(3600)).build().unwrap();
    let m = get_metrics(Backend::Otlp(config)).unwrap();
    m.counter("rows_copied", "Rows copied.").unwrap().inc_by(42);
    m.shutdown().unwrap();
    let got = server.join().unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("POST /v1/metrics HTTP/1.1"), "{text}");
    assert!(text.contains("content-type: application/x-protobuf\r\n"), "{text}");
    assert!(got.windows(11).any(|w| w == b"rows_copied"), "{text}");
    assert_eq!(m.self_metrics().get(OtlpEvent::Sent), 1);
}

#[cfg(feature = "process")]
fn process() {
    let m = memory();
    m.register_process_metrics().unwrap();
    let t = m.render(codomyrmex_metrics::Format::PrometheusText);
    let fds = value_of(&t, "process_open_fds").expect("process_open_fds");
    assert!(fds > 0.0, "{t}");
    assert!(value_of(&t, "process_resident_memory_bytes").is_some_and(|v| v > 0.0), "{t}");
}
