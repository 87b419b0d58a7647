//! The README's main example, run as its own process: the real Prometheus server scrapes it
//! and reads the request counter through PromQL; then the same binary, switched by
//! environment variables to HTTPS with a Bearer token and to StatsD as well, is scraped over
//! TLS and delivers its counters to the real statsd daemon on Ctrl-C.
#![cfg(all(feature = "axum", feature = "prometheus", feature = "process", feature = "statsd", feature = "tls"))]

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

use support::statsd::Statsd;
use support::web;

struct Quickstart {
    child: Child,
    /// Its stdout, read to the end on exit (so its last line has somewhere to go).
    stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    app: SocketAddr,
    metrics: SocketAddr,
}

impl Quickstart {
    /// Starts the example on free ports (port 0) and reads where it listens from its output.
    fn start(env: &[(&str, String)]) -> Option<Self> {
        let exe = support::example("quickstart")?;
        let mut child = Command::new(exe)
            .env("QUICKSTART_ADDR", "127.0.0.1:0")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the quickstart example");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut addr = |prefix: &str| -> SocketAddr {
            let line = lines.next().unwrap_or_else(|| panic!("quickstart exited before printing {prefix:?}")).unwrap();
            line.strip_prefix(prefix).unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}")).parse().unwrap()
        };
        let app = addr("app on ");
        let metrics = addr("metrics on ");
        Some(Self { child, stdout: lines, app, metrics })
    }

    /// Sends 25 GETs to `/users/{n}`, 3 POSTs to `/orders` and 2 requests nothing routes.
    fn traffic(&self) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut c = web::connect(self.app).await;
            for n in 0..25 {
                assert_eq!(web::send(&mut c, "GET", &format!("/users/{n}"), b"").await.0, 200);
            }
            for _ in 0..3 {
                assert_eq!(web::send(&mut c, "POST", "/orders", b"{}").await.0, 201);
            }
            for path in ["/admin", "/users/7/alice@example.com"] {
                assert_eq!(web::send(&mut c, "GET", path, b"").await.0, 404);
            }
        });
    }

    /// Ctrl-C: the example stops serving, flushes its exporters and exits 0.
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let rest: Vec<String> = self.stdout.by_ref().map_while(Result::ok).collect();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "quickstart exited with {status}");
        assert_eq!(rest, ["stopped"]);
    }
}

/// The value of each query's result line, in order.
fn results(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.starts_with("up ") && !l.starts_with('['))
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect()
}

fn query(addr: SocketAddr, extra: &[&str], queries: &[&str]) -> String {
    let target = addr.to_string();
    let mut args = vec![target.as_str(), "--timeout", "20"];
    args.extend_from_slice(extra);
    for q in queries {
        args.extend_from_slice(&["--query", q]);
    }
    let (code, out) = support::script("prom-scrape.sh", &args);
    assert_eq!(code, 0, "{out}");
    out
}

fn peers_ready() -> bool {
    support::tool("prometheus", "--version") && support::tool("jq", "--version")
}

#[test]
fn prometheus_scrapes_the_quickstart_and_reads_its_request_counter() {
    if !peers_ready() {
        return;
    }
    let Some(qs) = Quickstart::start(&[("CODOMYRMEX_METRICS_BACKEND", "prometheus://127.0.0.1:0/metrics".into())])
    else {
        return;
    };
    qs.traffic();
    let out = query(
        qs.metrics,
        &[],
        &[
            r#"sum(http_server_requests_total{route="/users/{id}",status="200"})"#,
            r#"sum(http_server_requests_total{route="unmatched"})"#,
            r#"orders_placed_total"#,
            r#"process_start_time_seconds > 0"#,
        ],
    );
    let values = results(&out);
    assert_eq!(values, ["25", "2", "3", values[3]], "{out}");
    assert!(out.contains("orders_placed_total{channel=\"web\",instance="), "{out}");
    assert!(!out.contains("alice"), "{out}");
    qs.interrupt();
}

#[test]
fn environment_variables_switch_the_quickstart_to_tls_with_a_bearer_token_and_to_statsd() {
    if !peers_ready() {
        return;
    }
    let Some(statsd) = Statsd::start(false) else { return };
    let certs = support::certs();
    let token = std::env::temp_dir().join(format!("codomyrmex-qs-token-{}", std::process::id()));
    std::fs::write(&token, "quickstart-bearer-token-0123456789\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = |f: &str| certs.join(f).to_str().unwrap().to_owned();
    let backend = format!("prometheus+tls://127.0.0.1:0/metrics,statsd://127.0.0.1:{}", statsd.udp);
    let Some(qs) = Quickstart::start(&[
        ("CODOMYRMEX_METRICS_BACKEND", backend),
        ("CODOMYRMEX_METRICS_TLS_CERT", path("server.crt")),
        ("CODOMYRMEX_METRICS_TLS_KEY", path("server.key")),
        ("CODOMYRMEX_METRICS_BEARER_TOKEN_FILE", token.to_str().unwrap().to_owned()),
    ]) else {
        return;
    };
    qs.traffic();
    let ca = path("ca.crt");
    let tls = ["--tls", ca.as_str(), "-", "-", "--bearer", "quickstart-bearer-token-0123456789"];
    let out = query(qs.metrics, &tls, &[r#"sum(http_server_requests_total{route="/users/{id}"})"#]);
    assert_eq!(results(&out), ["25"], "{out}");
    // Without the token the same scrape is refused.
    let (code, refused) =
        support::script("prom-scrape.sh", &[&qs.metrics.to_string(), "--tls", &ca, "-", "-", "--expect-down"]);
    assert_eq!(code, 0, "{refused}");
    assert!(refused.contains("401"), "{refused}");
    qs.interrupt(); // the last StatsD flush happens here
    let dump = statsd.dump();
    let sum = |prefix: &str| -> f64 {
        dump["counters"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.as_f64().unwrap())
            .sum()
    };
    // StatsD names carry no `_total`; Etsy folds labels in, and statsd turns `/{}` into `-`.
    assert_eq!(sum("http_server_requests.method."), 30.0, "{dump}");
    assert_eq!(Statsd::counter(&dump, "http_server_requests.method.GET.route.-users-id.status.200"), 25.0, "{dump}");
    assert_eq!(sum("orders_placed.channel.web"), 3.0, "{dump}");
    assert!(dump["gauges"]["process_threads"].as_f64().unwrap() >= 1.0, "{dump}");
    let _ = std::fs::remove_file(token);
}
