//! The real Prometheus server (Debian's 2.42) scrapes the endpoint: plain, TLS + mTLS + Basic
//! auth, Bearer; counters read back through PromQL; and the refusals as Prometheus sees them.
//! Also: a TLS 1.1 handshake is refused (openssl s_client) and certificates reload.
#![cfg(all(feature = "prometheus", feature = "tls"))]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, Metrics, PrometheusBuilder, PrometheusConfig};
use support::http::loopback;

fn peers_ready() -> bool {
    support::tool("prometheus", "--version") && support::tool("jq", "--version") && support::tool("openssl", "version")
}

fn serve(builder: PrometheusBuilder) -> (Metrics, SocketAddr) {
    let (listener, addr) = loopback();
    let m = get_metrics(Backend::Prometheus(builder.listener(listener).build().unwrap())).unwrap();
    m.counter_family("e2e_jobs", "Jobs run.", &["queue"]).unwrap().with(&["mail"]).inc_by(42);
    (m, addr)
}

fn tls(certs: &Path) -> PrometheusBuilder {
    PrometheusConfig::builder().tls(certs.join("server.crt"), certs.join("server.key"))
}

fn path(certs: &Path, f: &str) -> String {
    certs.join(f).to_str().unwrap().to_owned()
}

fn scrape(addr: SocketAddr, args: &[&str]) -> (i32, String) {
    let target = addr.to_string();
    let mut all = vec![target.as_str(), "--timeout", "20"];
    all.extend_from_slice(args);
    support::script("prom-scrape.sh", &all)
}

/// Several prom-scrape.sh runs at once (each starts its own Prometheus on a free port).
fn scrape_all(runs: Vec<(SocketAddr, Vec<String>)>) -> Vec<(i32, String)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(addr, args)| s.spawn(move || scrape(*addr, &args.iter().map(String::as_str).collect::<Vec<_>>())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn prometheus_scrapes_plain_mtls_with_basic_auth_and_bearer_and_reads_the_counter() {
    if !peers_ready() {
        return;
    }
    let c = support::certs();
    let hash = bcrypt::hash("s3cr\"et:x", 4).unwrap();
    let (plain, plain_addr) = serve(PrometheusConfig::builder());
    let (mtls, mtls_addr) = serve(
        tls(&c).client_ca(c.join("ca.crt")).allowed_client_names(["e2e-client"]).basic_auth("scraper", &hash).unwrap(),
    );
    let (bearer, bearer_addr) = serve(tls(&c).bearer_token("bearer-token-0123456789").unwrap());
    let q = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let results = scrape_all(vec![
        (plain_addr, q(&["--query", "e2e_jobs_total"])),
        (
            mtls_addr,
            q(&[
                "--tls",
                &path(&c, "ca.crt"),
                &path(&c, "client.crt"),
                &path(&c, "client.key"),
                "--basic",
                "scraper",
                "s3cr\"et:x",
                "--query",
                "e2e_jobs_total",
            ]),
        ),
        (
            bearer_addr,
            q(&[
                "--tls",
                &path(&c, "ca.crt"),
                "-",
                "-",
                "--bearer",
                "bearer-token-0123456789",
                "--query",
                "e2e_jobs_total",
            ]),
        ),
    ]);
    for (code, out) in &results {
        assert_eq!(*code, 0, "{out}");
        assert!(out.contains("up 1"), "{out}");
        let line = out.lines().find(|l| l.starts_with("e2e_jobs_total{")).unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains("queue=\"mail\"") && line.ends_with(" 42"), "{line}");
    }
    for m in [plain, mtls, bearer] {
        m.shutdown().unwrap();
    }
}

#[test]
fn prometheus_sees_wrong_passwords_missing_or_untrusted_client_certs_and_plain_http_as_down() {
    if !peers_ready() {
        return;
    }
    let c = support::certs();
    let (m, addr) = serve(tls(&c).client_ca(c.join("ca.crt")).basic_auth("scraper", "right-password").unwrap());
    let (ca, cert, key) = (path(&c, "ca.crt"), path(&c, "client.crt"), path(&c, "client.key"));
    let (rogue, rogue_key) = (path(&c, "rogue.crt"), path(&c, "rogue.key"));
    let q = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let results = scrape_all(vec![
        (addr, q(&["--tls", &ca, &cert, &key, "--basic", "scraper", "wrong", "--expect-down"])),
        (addr, q(&["--tls", &ca, "-", "-", "--basic", "scraper", "right-password", "--expect-down"])),
        (addr, q(&["--tls", &ca, &rogue, &rogue_key, "--basic", "scraper", "right-password", "--expect-down"])),
        (addr, q(&["--basic", "scraper", "right-password", "--expect-down"])),
    ]);
    // rustls alerts `unknown certificate` for a certificate from an untrusted issuer.
    let expect = ["401 Unauthorized", "certificate required", "unknown certificate", ""];
    for ((code, out), want) in results.iter().zip(expect) {
        assert_eq!(*code, 0, "{out}");
        assert!(out.contains("up 0") && out.contains(want), "expected {want:?}: {out}");
    }
    m.shutdown().unwrap();
}

#[test]
fn a_client_certificate_for_another_name_is_refused() {
    if !peers_ready() {
        return;
    }
    let c = support::certs();
    let (m, addr) = serve(tls(&c).client_ca(c.join("ca.crt")).allowed_client_names(["billing-scraper"]));
    let (code, out) = scrape(
        addr,
        &["--tls", &path(&c, "ca.crt"), &path(&c, "client.crt"), &path(&c, "client.key"), "--expect-down"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(m
        .render(codomyrmex_metrics::Format::PrometheusText)
        .contains("codomyrmex_metrics_scrapes_total{reason=\"client_name_refused\"} "));
    m.shutdown().unwrap();
}

fn s_client(addr: SocketAddr, extra: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-servername", "localhost"])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (text.contains("-----BEGIN CERTIFICATE-----"), text)
}

#[test]
fn tls_1_1_is_refused_and_tls_1_2_accepted() {
    if !peers_ready() {
        return;
    }
    let c = support::certs();
    let (m, addr) = serve(tls(&c));
    let (ok12, out) = s_client(addr, &["-tls1_2"]);
    assert!(ok12, "TLS 1.2 should work: {out}");
    // SECLEVEL=0 lets the client offer TLS 1.1, so the refusal is the server's.
    let (ok11, out) = s_client(addr, &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    assert!(!ok11, "TLS 1.1 was accepted: {out}");
    assert!(
        out.contains("alert protocol version")
            || out.contains("unsupported protocol")
            || out.contains("handshake failure"),
        "{out}"
    );
    m.shutdown().unwrap();
}

fn served_serial(addr: SocketAddr) -> String {
    let (_, out) = s_client(addr, &["-showcerts"]);
    let pem: String = out
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .take_while(|l| !l.starts_with("-----END CERTIFICATE-----"))
        .collect::<String>()
        + "-----END CERTIFICATE-----\n";
    let mut child = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-serial"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), pem.as_bytes()).unwrap();
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).trim().to_owned()
}

#[test]
fn a_changed_certificate_is_served_without_a_restart() {
    if !peers_ready() {
        return;
    }
    let base = std::env::temp_dir().join(format!("codomyrmex-reload-{}", std::process::id()));
    let (first, second) = (base.join("a"), base.join("b"));
    for d in [&first, &second] {
        let (code, out) = support::script("make-certs.sh", &[d.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
    }
    let live = base.join("live");
    std::fs::create_dir_all(&live).unwrap();
    for f in ["server.crt", "server.key"] {
        std::fs::copy(first.join(f), live.join(f)).unwrap();
    }
    let (m, addr) = serve(tls(&live));
    let before = served_serial(addr);
    std::thread::sleep(Duration::from_millis(1100)); // past the modification-time check interval
    for f in ["server.key", "server.crt"] {
        std::fs::copy(second.join(f), live.join(format!("{f}.new"))).unwrap();
        std::fs::rename(live.join(format!("{f}.new")), live.join(f)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(1100));
    let _ = served_serial(addr); // the handshake that notices the change
    let after = served_serial(addr);
    assert!(before.starts_with("serial=") && after.starts_with("serial="), "{before} / {after}");
    assert_ne!(before, after, "the new certificate was not served");
    m.shutdown().unwrap();
    std::fs::remove_dir_all(&base).unwrap();
}
