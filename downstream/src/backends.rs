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
    #[cfg(feature = "pushgateway")]
    ("the Pushgateway client pushes on shutdown", pushgateway::push),
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
}

fn self_metrics_follow_backends() {
    let m = memory();
    m.counter("c", "h").unwrap().inc();
    let t = m.render(codomyrmex_metrics::Format::PrometheusText);
    for family in ["statsd_", "pushes_total", "scrapes_total", "scrape_renders_total"] {
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

#[cfg(feature = "statsd")]
mod statsd {
    use std::time::{Duration, Instant};

    use codomyrmex_metrics::{get_metrics, Backend, StatsdConfig};

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
    use std::io::{BufRead, BufReader, Read, Write};

    use codomyrmex_metrics::{get_metrics, Backend, PushgatewayConfig};

    /// Accepts one request on a real socket and answers 200, returning what was pushed.
    fn one_request(listener: std::net::TcpListener) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let (mut head, mut len) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").unwrap();
            head + &String::from_utf8(body).unwrap()
        })
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

#[cfg(feature = "process")]
fn process() {
    let m = memory();
    m.register_process_metrics().unwrap();
    let t = m.render(codomyrmex_metrics::Format::PrometheusText);
    let fds = value_of(&t, "process_open_fds").expect("process_open_fds");
    assert!(fds > 0.0, "{t}");
    assert!(value_of(&t, "process_resident_memory_bytes").is_some_and(|v| v > 0.0), "{t}");
}
