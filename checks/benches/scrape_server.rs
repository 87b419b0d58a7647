//! The scrape endpoint under load: scrapes per second and latency for 10k series, plain and
//! TLS, measured with wrk on loopback; and the server's heap under 1,000 idle connections.
//! Run: `cargo bench -p codomyrmex-metrics-checks --bench scrape_server --features prometheus,tls` (needs `wrk` and `openssl`).

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use codomyrmex_metrics::{Backend, Metrics, Policy, PrometheusBuilder, PrometheusConfig, RegistryBuilder};

#[global_allocator]
static GLOBAL: Tracking = Tracking;

use common::tracking_alloc::{live, Tracking};

const SERIES: usize = 10_000;

fn serve(builder: PrometheusBuilder) -> (Metrics, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = builder
        .listener(listener)
        .client_rate_limit(1_000_000, 1_000_000)
        .global_rate_limit(1_000_000, 1_000_000)
        .max_connections(1_100)
        .max_in_flight(64)
        .header_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let m = codomyrmex_metrics::MetricsBuilder::new(Backend::Prometheus(config))
        .registry(RegistryBuilder::default().policy(Policy::default().with_max_series_per_metric(SERIES)))
        .build()
        .unwrap();
    let f = m.counter_family("bench_requests", "Requests.", &["id"]).unwrap();
    for i in 0..SERIES {
        f.inc_by(&[&format!("series-{i:05}")], i as u64);
    }
    (m, addr)
}

/// Runs wrk; returns its summary lines.
fn wrk(url: &str, seconds: u32) -> Option<String> {
    let out = Command::new("wrk")
        .args(["-t1", "-c4", &format!("-d{seconds}s"), "--latency", "-H", "Accept-Encoding: identity", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let keep: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("Requests/sec")
                || l.contains("Latency")
                || l.trim_start().starts_with("50%")
                || l.trim_start().starts_with("99%")
                || l.contains("Transfer/sec")
        })
        .collect();
    Some(keep.join("\n"))
}

fn certs() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("codomyrmex-bench-certs-{}", std::process::id()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/make-certs.sh");
    let ok = Command::new("bash").arg(script).arg(&dir).output().ok()?.status.success();
    ok.then_some(dir)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = if std::env::var("BENCH_QUICK").is_ok() { 2 } else { 5 };
    println!("## scrape endpoint, {SERIES} series, wrk -t1 -c4 -d{seconds}s on loopback\n");
    let (m, addr) = serve(PrometheusConfig::builder());
    let body = m.render(codomyrmex_metrics::Format::PrometheusText).len();
    println!("exposition: {body} bytes\n");
    match wrk(&format!("http://{addr}/metrics"), seconds) {
        Some(s) => println!("### plain HTTP\n```\n{s}\n```\n"),
        None => println!("wrk is not installed: skipped the load runs\n"),
    }
    if let Some(dir) = certs() {
        let (tls, tls_addr) = serve(PrometheusConfig::builder().tls(dir.join("server.crt"), dir.join("server.key")));
        if let Some(s) = wrk(&format!("https://{tls_addr}/metrics"), seconds) {
            println!("### HTTPS (TLS 1.3, keep-alive)\n```\n{s}\n```\n");
        }
        tls.shutdown().unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    // Heap held by the server for 1,000 idle connections (the clients' sockets hold no heap).
    std::thread::sleep(Duration::from_millis(200));
    let before = live();
    let idle: Vec<TcpStream> = (0..1_000).filter_map(|_| TcpStream::connect(addr).ok()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let after = live();
    let scrape = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} in %{time_total}s", &format!("http://{addr}/metrics")])
        .output();
    println!("### 1,000 idle connections\n");
    println!("| connections held | server heap for them | per connection | a scrape meanwhile |");
    println!("|---|---|---|---|");
    println!(
        "| {} | {:.1} KiB | {:.0} B | {} |",
        idle.len(),
        (after - before) as f64 / 1024.0,
        (after - before) as f64 / idle.len().max(1) as f64,
        scrape.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_else(|_| "curl missing".into())
    );
    drop(idle);
    m.shutdown().unwrap();
}
