//! The scrape endpoint at its default limits, attacked over real sockets from several loopback
//! addresses (127.0.0.0/8 is all loopback) while an authenticated scraper scrapes every 500 ms:
//! every scrape must be answered, 200, within 2 s. And the Host header against DNS rebinding.
#![cfg(feature = "prometheus")]

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use codomyrmex_metrics::ScrapeEvent;
use codomyrmex_metrics::{get_metrics, Backend, Metrics, PrometheusBuilder, PrometheusConfig};
use support::http::connect_from;

/// The tests of this file take turns: each measures the scraper's answers under one attack,
/// and on two cores another attack running beside it would be measured too.
fn my_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn serve(builder: PrometheusBuilder) -> (Metrics, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let m = get_metrics(Backend::Prometheus(builder.listener(listener).build().unwrap())).unwrap();
    m.counter("up_marker", "Marker.").unwrap().inc();
    let addr = m.local_addrs()[0];
    (m, addr)
}

/// One request from `from` (a loopback address of the caller's choosing); the status, or 0
/// when the connection failed or nothing came back within `patience`.
fn request_from(from: Ipv4Addr, to: SocketAddr, head: &str, patience: Duration) -> u16 {
    answer_from(from, to, head, patience).0
}

/// Like [`request_from`], with the body too (a refusal says which limit refused).
fn answer_from(from: Ipv4Addr, to: SocketAddr, head: &str, patience: Duration) -> (u16, String) {
    let Ok(mut s) = connect_from(from, to) else { return (0, "connect failed".into()) };
    s.set_read_timeout(Some(patience)).unwrap();
    if s.write_all(head.as_bytes()).is_err() {
        return (0, "write failed".into());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let reply = support::http::parse(&raw);
    (reply.status, String::from_utf8_lossy(&reply.body).trim().chars().take(80).collect())
}

fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

/// Scrapes every 500 ms for `how_long` with `auth`; returns how many were not a 200 within 2 s.
fn scrape_steadily(to: SocketAddr, auth: &str, how_long: Duration) -> (usize, usize) {
    let (mut ok, mut bad) = (0, 0);
    let end = Instant::now() + how_long;
    while Instant::now() < end {
        let started = Instant::now();
        let head =
            format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n");
        let (status, body) = answer_from(Ipv4Addr::LOCALHOST, to, &head, Duration::from_secs(2));
        if status == 200 && started.elapsed() <= Duration::from_secs(2) {
            ok += 1;
        } else {
            bad += 1;
            let body = if status == 200 { "" } else { &body };
            eprintln!("scrape answered {status} after {:?}: {body}", started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(500).saturating_sub(started.elapsed()));
    }
    (ok, bad)
}

#[test]
fn an_anonymous_flood_never_reaches_the_authenticated_scraper() {
    let _turn = my_turn();
    let hash = bcrypt::hash("the-scraper-password", 6).unwrap();
    let (m, addr) = serve(PrometheusConfig::builder().basic_auth("prometheus", &hash).unwrap());
    let auth = basic("prometheus", "the-scraper-password");
    let head =
        format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n");
    assert_eq!(request_from(Ipv4Addr::LOCALHOST, addr, &head, Duration::from_secs(5)), 200, "a first scrape");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    // Sixteen attackers at other loopback addresses, as fast as they can, with wrong passwords
    // (each a new one, so no cache helps) and with none at all: together well past the global
    // budget of 100 requests a second, each within its own budget of 10.
    let attackers: Vec<_> = (0..16)
        .map(|i| {
            let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
            std::thread::spawn(move || {
                let from = Ipv4Addr::new(127, 0, 0, 2 + i as u8);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let auth = if n % 2 == 0 {
                        format!("Authorization: {}\r\n", basic("prometheus", &format!("guess-{i}-{n}")))
                    } else {
                        String::new()
                    };
                    let head = format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n");
                    request_from(from, addr, &head, Duration::from_secs(2));
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (ok, bad) = scrape_steadily(addr, &auth, Duration::from_secs(6));
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.join().unwrap();
    }
    let events = m.self_metrics();
    let (unauthorized, limited) = (events.get(ScrapeEvent::Unauthorized), events.get(ScrapeEvent::RateLimited));
    eprintln!("attack: {} requests, {unauthorized} unauthorized, {limited} rate limited", sent.load(Ordering::Relaxed));
    assert!(unauthorized + limited > 100, "the flood was real: {unauthorized} 401s and {limited} 429s");
    assert_eq!(bad, 0, "the scraper got {ok} answers and {bad} failures during the flood");
    m.shutdown().unwrap();
}

#[test]
fn the_host_header_is_checked_against_dns_rebinding() {
    let _turn = my_turn();
    let (m, addr) = serve(PrometheusConfig::builder());
    let status = |host: &str| {
        let head = format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        request_from(Ipv4Addr::LOCALHOST, addr, &head, Duration::from_secs(5))
    };
    // A page whose name was rebound to 127.0.0.1 sends its own name.
    for host in ["evil.example", "evil.example:9464", "127.0.0.1.nip.io", "localhost.evil.example"] {
        assert_eq!(status(host), 403, "{host}");
    }
    for host in ["localhost", &format!("localhost:{}", addr.port()), &addr.to_string(), "[::1]:9464", "127.0.0.53"] {
        assert_eq!(status(host), 200, "{host}");
    }
    assert_eq!(m.self_metrics().get(ScrapeEvent::HostRefused), 4);
    m.shutdown().unwrap();

    let (m, addr) = serve(PrometheusConfig::builder().allowed_hosts(["metrics.internal"]).unwrap());
    let head = |host: &str| format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    assert_eq!(request_from(Ipv4Addr::LOCALHOST, addr, &head("metrics.internal:9464"), Duration::from_secs(5)), 200);
    assert_eq!(request_from(Ipv4Addr::LOCALHOST, addr, &head("localhost"), Duration::from_secs(5)), 403);
    m.shutdown().unwrap();
    assert!(PrometheusConfig::builder().allowed_hosts(["a/b"]).is_err());
    assert!(PrometheusConfig::builder().allowed_hosts(Vec::<String>::new()).is_err());
}

/// Opens `n` connections from `from` to `to` that each send half a request head and then
/// nothing; returns them so the caller holds them open.
fn slow_connections(from: Ipv4Addr, to: SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        if let Ok(mut s) = connect_from(from, to) {
            let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
            held.push(s);
        }
    }
    held
}

#[test]
fn a_thousand_slow_connections_from_a_few_addresses_leave_room_for_the_scraper() {
    let _turn = my_turn();
    let token = "a-long-scraper-token-value";
    let (m, addr) = serve(PrometheusConfig::builder().bearer_token(token).unwrap());
    // 250 from each of four addresses: far past the 64 connections the endpoint serves.
    let held: Vec<_> = (0..4).flat_map(|i| slow_connections(Ipv4Addr::new(127, 0, 0, 20 + i), addr, 250)).collect();
    assert!(held.len() >= 900, "only {} connections were opened", held.len());
    let (ok, bad) = scrape_steadily(addr, &format!("Bearer {token}"), Duration::from_secs(4));
    drop(held);
    eprintln!("connection_limit refusals: {}", m.self_metrics().get(ScrapeEvent::ConnectionLimit));
    assert_eq!(bad, 0, "the scraper got {ok} answers and {bad} failures");
    m.shutdown().unwrap();
}

#[test]
fn clients_that_pipeline_and_never_read_are_cut_off() {
    let _turn = my_turn();
    let token = "a-long-scraper-token-value";
    let builder = PrometheusConfig::builder().bearer_token(token).unwrap().request_timeout(Duration::from_secs(2));
    let (m, addr) = serve(builder);
    for i in 0..60 {
        m.counter(&format!("padding_{i}"), "Makes each response a few kilobytes.").unwrap().inc();
    }
    // Two clients, forty connections each: each connection writes requests without end and
    // never reads, so the answers fill both socket buffers and the server's writes wait.
    // A writer returns when its connection is closed under it.
    let one = format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n");
    let writers: Vec<_> = (0..80u8)
        .map(|i| {
            let one = one.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = connect_from(Ipv4Addr::new(127, 0, 0, 40 + i % 2), addr) else {
                    return Instant::now();
                };
                while s.write_all(one.as_bytes()).is_ok() {}
                Instant::now()
            })
        })
        .collect();
    let started = Instant::now();
    let (ok, bad) = scrape_steadily(addr, &format!("Bearer {token}"), Duration::from_secs(6));
    assert_eq!(bad, 0, "the scraper got {ok} answers and {bad} failures");
    // Every writer ends: its connection was refused (past its client's share) or cut off when
    // the server's writes had waited the request timeout.
    let deadline = started + Duration::from_secs(20);
    for w in writers {
        while !w.is_finished() {
            assert!(Instant::now() < deadline, "a connection that never reads was still open after 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        let ended = w.join().unwrap();
        assert!(ended.duration_since(started) < Duration::from_secs(20));
    }
    m.shutdown().unwrap();
}
