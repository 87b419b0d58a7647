//! The scrape endpoint over real loopback sockets: what it serves, what it refuses and how,
//! and that slow or idle clients cannot hold it. Bodies are checked by promtool and the Python
//! parsers.
#![cfg(feature = "prometheus")]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use codomyrmex_metrics::{
    get_metrics, Backend, Format, Metrics, PrometheusBuilder, PrometheusConfig, SecretFilePolicy,
};
use support::http::{get, loopback, request};

fn serve(builder: PrometheusBuilder) -> (Metrics, SocketAddr) {
    let (listener, addr) = loopback();
    let config = builder.listener(listener).build().unwrap();
    let m = get_metrics(Backend::Prometheus(config)).unwrap();
    m.counter_family("jobs", "Jobs run.", &["queue"]).unwrap().with(&["mail"]).inc_by(7);
    (m, addr)
}

const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[test]
fn text_is_served_by_default_with_security_headers_and_passes_promtool() {
    let (m, addr) = serve(PrometheusConfig::builder());
    let r = get(addr, "/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.text().contains("jobs_total{queue=\"mail\"} 7\n"));
    if let Some(res) = support::promtool(&r.text()) {
        res.unwrap();
    }
    if let Some(res) = support::strict_parse(&r.text(), false) {
        res.unwrap();
    }
    m.shutdown().unwrap();
}

#[test]
fn openmetrics_and_gzip_are_negotiated() {
    let (m, addr) = serve(PrometheusConfig::builder());
    let r = request(addr, "GET", "/metrics", &[("Accept", PROMETHEUS_ACCEPT), ("Accept-Encoding", "gzip")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&r.body[..]).read_to_string(&mut text).unwrap();
    assert!(text.ends_with("# EOF\n"));
    if let Some(res) = support::strict_parse(&text, true) {
        res.unwrap();
    }
    m.shutdown().unwrap();
}

#[test]
fn head_answers_headers_only_and_other_paths_and_methods_are_refused() {
    let (m, addr) = serve(
        PrometheusConfig::builder().health_path("/healthz").unwrap().bearer_token("0123456789abcdef-token").unwrap(),
    );
    let head = request(addr, "HEAD", "/metrics", &[("Authorization", "Bearer 0123456789abcdef-token")]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(head.header("content-length").unwrap().parse::<usize>().unwrap() > 0);
    let r = get(addr, "/other");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let r = request(addr, "POST", "/metrics", &[]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = get(addr, "/healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("codomyrmex_metrics_scrapes_total{reason=\"not_found\"} 1\n"), "{t}");
    assert!(t.contains("codomyrmex_metrics_scrapes_total{reason=\"method_not_allowed\"} 1\n"));
    m.shutdown().unwrap();
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

#[test]
fn basic_auth_accepts_bcrypt_hashes_and_plain_passwords_and_challenges_others() {
    let hash = bcrypt::hash("s3cr\"et:x", 4).unwrap();
    let (m, addr) = serve(
        PrometheusConfig::builder().basic_auth("scraper", &hash).unwrap().basic_auth("ops", "plain-password").unwrap(),
    );
    let r = get(addr, "/metrics");
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"metrics\""));
    for (user, pass, want) in [
        ("scraper", "s3cr\"et:x", 200),
        ("scraper", "s3cr\"et:x", 200), // second time from the cache
        ("scraper", "wrong", 401),
        ("nobody", "s3cr\"et:x", 401),
        ("ops", "plain-password", 200),
        ("ops", "plain-pas", 401),
    ] {
        let r = request(addr, "GET", "/metrics", &[("Authorization", &basic(user, pass))]);
        assert_eq!(r.status, want, "{user}");
    }
    assert_eq!(request(addr, "GET", "/metrics", &[("Authorization", "Basic !!!")]).status, 401);
    assert!(m.render(Format::PrometheusText).contains("codomyrmex_metrics_scrapes_total{reason=\"unauthorized\"} 5\n"));
    m.shutdown().unwrap();
}

#[test]
fn bearer_tokens_are_checked() {
    let (m, addr) = serve(PrometheusConfig::builder().bearer_token("the-right-token-0123").unwrap());
    assert_eq!(request(addr, "GET", "/metrics", &[("Authorization", "Bearer the-right-token-0123")]).status, 200);
    assert_eq!(request(addr, "GET", "/metrics", &[("Authorization", "bearer the-right-token-0123")]).status, 200);
    let r = request(addr, "GET", "/metrics", &[("Authorization", "Bearer the-wrong-token-0123")]);
    assert_eq!((r.status, r.header("www-authenticate")), (401, Some("Bearer realm=\"metrics\"")));
    m.shutdown().unwrap();
}

#[test]
fn addresses_outside_the_allowlist_get_403() {
    let (m, addr) = serve(PrometheusConfig::builder().allow_cidrs(["10.0.0.0/8", "192.168.1.7"]).unwrap());
    assert_eq!(get(addr, "/metrics").status, 403);
    let (m2, addr2) = serve(PrometheusConfig::builder().allow_cidrs(["127.0.0.0/8"]).unwrap());
    assert_eq!(get(addr2, "/metrics").status, 200);
    assert!(PrometheusConfig::builder().allow_cidrs(["not-a-net"]).is_err());
    m.shutdown().unwrap();
    m2.shutdown().unwrap();
}

#[test]
fn past_the_rate_limit_clients_get_429_with_retry_after() {
    let (m, addr) = serve(PrometheusConfig::builder().client_rate_limit(1, 2));
    let statuses: Vec<u16> = (0..4).map(|_| get(addr, "/metrics").status).collect();
    assert_eq!(&statuses[..2], &[200, 200]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    let r = get(addr, "/metrics");
    if r.status == 429 {
        assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    }
    m.shutdown().unwrap();
}

#[test]
fn idle_connections_beyond_the_limit_do_not_keep_a_scrape_waiting() {
    let (m, addr) = serve(PrometheusConfig::builder().max_connections(2).header_timeout(Duration::from_secs(10)));
    // Five other clients, one idle connection each: two take both slots.
    let idle: Vec<TcpStream> = (0..5)
        .map(|i| support::http::connect_from(std::net::Ipv4Addr::new(127, 0, 0, 60 + i), addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let r = get(addr, "/metrics");
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(idle);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(addr, "/metrics").status, 200);
    m.shutdown().unwrap();
}

#[test]
fn a_client_sending_headers_byte_by_byte_is_cut_off_at_the_header_timeout() {
    let (m, addr) = serve(PrometheusConfig::builder().header_timeout(Duration::from_millis(500)));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let request =
        b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let start = Instant::now();
    let mut sent = 0;
    for b in request {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
        if start.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let closed_after = start.elapsed();
    assert!(sent < request.len(), "the whole slow request went through");
    assert!(closed_after < Duration::from_secs(4), "closed after {closed_after:?}");
    assert!(!String::from_utf8_lossy(&rest).contains("jobs_total"));
    m.shutdown().unwrap();
}

#[test]
fn a_public_address_needs_auth_or_tls_or_an_explicit_opt_out() {
    let public: SocketAddr = "0.0.0.0:9464".parse().unwrap();
    let err = PrometheusConfig::builder().listen(public).build().unwrap_err().to_string();
    assert!(err.contains("not a loopback address") && err.contains("allow_unauthenticated_public_bind(true)"), "{err}");
    assert!(PrometheusConfig::builder().listen(public).bearer_token("0123456789abcdef-token").unwrap().build().is_ok());
    assert!(PrometheusConfig::builder().listen(public).allow_unauthenticated_public_bind(true).build().is_ok());
}

#[test]
fn secret_files_readable_by_others_are_refused_and_never_echoed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("codomyrmex-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "super-secret-token-value\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Checked at build, under the policy in force then.
    let err = PrometheusConfig::builder().bearer_token_file(&file).unwrap().build().unwrap_err().to_string();
    assert!(err.contains("chmod 600") && !err.contains("super-secret"), "{err}");
    assert!(PrometheusConfig::builder().secret_file_policy(SecretFilePolicy::Warn).bearer_token_file(&file).is_ok());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(PrometheusConfig::builder().bearer_token_file(&file).is_ok());
    let hash = bcrypt::hash("scraper-password", 4).unwrap();
    std::fs::write(dir.join("users"), format!("scraper:{hash}\nbroken line\n")).unwrap();
    std::fs::set_permissions(dir.join("users"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = PrometheusConfig::builder().basic_auth_file(&dir.join("users")).unwrap_err().to_string();
    assert!(err.contains("line 2") && !err.contains("broken"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// After shutdown nothing serves this registry on `addr`. (Another test may bind the freed
/// port at once, so a connection alone proves nothing: check it is not our registry.)
fn assert_stopped(addr: SocketAddr, marker: &str) {
    if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let mut body = String::new();
        let _ = s.read_to_string(&mut body);
        assert!(!body.contains(marker), "the endpoint still serves after shutdown");
    }
}

#[test]
fn shutdown_closes_the_listener_and_the_server_also_runs_on_the_callers_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (m, addr) = rt.block_on(async { serve(PrometheusConfig::builder()) });
    let marker = format!("marker_{}", std::process::id());
    m.gauge(&marker, "Unique to this test.").unwrap().set(1.0);
    let r = rt.block_on(async { tokio::task::spawn_blocking(move || get(addr, "/metrics")).await.unwrap() });
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&marker));
    m.shutdown().unwrap();
    assert_stopped(addr, &marker);
    drop(rt);
    let (m, addr) = serve(PrometheusConfig::builder());
    m.gauge(&marker, "Unique to this test.").unwrap().set(1.0);
    assert!(get(addr, "/metrics").text().contains(&marker));
    m.shutdown().unwrap();
    assert_stopped(addr, &marker);
}

#[test]
fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout() {
    let (m, addr) = serve(PrometheusConfig::builder().header_timeout(Duration::from_millis(300)));
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = idle.read(&mut buf).unwrap_or(0);
    assert!(start.elapsed() < Duration::from_secs(3), "idle connection held for {:?}", start.elapsed());
    assert!(!String::from_utf8_lossy(&buf[..n]).contains("jobs_total"));
    // A kept-alive connection that goes quiet after a request is closed the same way.
    let mut kept = TcpStream::connect(addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    kept.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let start = Instant::now();
    let mut all = Vec::new();
    let _ = kept.read_to_end(&mut all);
    assert!(String::from_utf8_lossy(&all).contains("jobs_total"));
    assert!(start.elapsed() < Duration::from_secs(3), "kept-alive connection held for {:?}", start.elapsed());
    m.shutdown().unwrap();
}

#[test]
fn shutdown_from_async_code_on_a_current_thread_runtime_does_not_stall() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (m, addr) = serve(PrometheusConfig::builder());
        let marker = format!("ct_marker_{}", std::process::id());
        m.gauge(&marker, "Unique to this test.").unwrap().set(1.0);
        let started = Instant::now();
        m.shutdown().unwrap();
        assert!(started.elapsed() < Duration::from_millis(500), "shutdown stalled for {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await; // the server task runs and stops
        assert_stopped(addr, &marker);
    });
}

#[test]
fn dropping_the_last_handle_inside_async_code_stops_the_server_without_a_panic() {
    let (m, addr) = serve(PrometheusConfig::builder()); // its own runtime: made outside one
    let marker = format!("drop_marker_{}", std::process::id());
    m.gauge(&marker, "Unique to this test.").unwrap().set(1.0);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move { drop(m) });
    std::thread::sleep(Duration::from_millis(100));
    assert_stopped(addr, &marker);
}

#[test]
fn extreme_settings_are_clamped_not_panicked_on() {
    let (m, addr) = serve(
        PrometheusConfig::builder()
            .max_connections(usize::MAX)
            .max_in_flight(usize::MAX)
            .header_timeout(Duration::MAX)
            .request_timeout(Duration::MAX)
            .max_header_bytes(usize::MAX)
            .client_rate_limit(u32::MAX, u32::MAX)
            .global_rate_limit(0, 0),
    );
    assert_eq!(get(addr, "/metrics").status, 200);
    m.shutdown().unwrap();
}
