//! Access to the real peers the tests check against: the Python `prometheus-client` 0.26
//! parsers (in `checks/tests/peers/.venv`, created on first use), Debian's `promtool`,
//! `prometheus`, `prometheus-pushgateway`, `stunnel4`, `socat`, node and the statsd daemon.
//!
//! A missing peer fails the test, with the command that installs it. A run may opt out with
//! `CODOMYRMEX_SKIP_MISSING_PEERS=1`: each skipped check is then written to stderr as it
//! happens (past the test harness' capture) and to `target/tmp/skipped-peer-checks.txt`,
//! which `.ci/run` counts in its summary.
#![allow(dead_code)]

pub mod http;
pub mod otlp;
pub mod proxy;
pub mod pushgateway;
pub mod statsd;
pub mod web;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// The one switch that lets a run skip the checks whose peer is missing.
pub const SKIP_VAR: &str = "CODOMYRMEX_SKIP_MISSING_PEERS";

/// Where skipped checks are listed, one a line (the count goes into `.ci/run`'s summary).
pub const SKIPPED_LOG: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-peer-checks.txt");

/// Fails the test because `what` is missing, naming the command that installs it; returns
/// `None` (the check is skipped, and counted) only when the run opted out with [`SKIP_VAR`].
fn missing<T>(what: &str, install: &str) -> Option<T> {
    if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") {
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let line = format!("{test}: {what}\n");
        let _ = std::io::stderr().write_all(format!("SKIPPED PEER CHECK {line}").as_bytes());
        let log = std::fs::OpenOptions::new().create(true).append(true).open(SKIPPED_LOG);
        if let Ok(mut log) = log {
            let _ = log.write_all(line.as_bytes());
        }
        return None;
    }
    panic!("{what} is missing; install it with `{install}` (`bash .ci/run` installs every peer), or set {SKIP_VAR}=1 to skip and count such checks")
}

/// How to install each command-line peer the tests use.
fn install_command(tool: &str) -> &'static str {
    match tool {
        "promtool" | "prometheus" => "apt-get install prometheus",
        "prometheus-pushgateway" => "apt-get install prometheus-pushgateway",
        "stunnel4" => "apt-get install stunnel4",
        "socat" => "apt-get install socat",
        "nc" => "apt-get install netcat-openbsd",
        "tinyproxy" => "apt-get install tinyproxy",
        "node" | "npm" => "apt-get install nodejs npm && (cd checks/tests/peers && npm install statsd@0.9.0)",
        "jq" => "apt-get install jq",
        "curl" => "apt-get install curl",
        "openssl" => "apt-get install openssl",
        "wrk" => "apt-get install wrk",
        _ => "bash .ci/run",
    }
}

/// The venv Python with prometheus-client 0.26.0, creating the venv on first use.
pub fn python() -> Option<PathBuf> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    PY.get_or_init(|| {
        let py = peers_dir().join(".venv/bin/python");
        if !py.exists() {
            // parse-exposition.py creates the venv and installs the pinned parser.
            let _ = Command::new("python3")
                .arg(peers_dir().join("parse-exposition.py"))
                .arg("-")
                .stdin(Stdio::null())
                .status();
        }
        let ok = Command::new(&py).args(["-c", "import prometheus_client"]).status().is_ok_and(|s| s.success());
        if ok {
            Some(py)
        } else {
            missing(
                "python prometheus-client 0.26.0 (checks/tests/peers/.venv)",
                "python3 -m venv checks/tests/peers/.venv && checks/tests/peers/.venv/bin/pip install prometheus-client==0.26.0",
            )
        }
    })
    .clone()
}

fn run(cmd: &mut Command, input: &str) -> (i32, String) {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Strict validation by `parse-exposition.py`: Ok, Err(findings), or None when skipped.
pub fn strict_parse(text: &str, openmetrics: bool) -> Option<Result<(), String>> {
    let py = python()?;
    let mut cmd = Command::new(py);
    cmd.arg(peers_dir().join("parse-exposition.py"));
    if openmetrics {
        cmd.arg("--openmetrics");
    }
    cmd.arg("-");
    let (code, out) = run(&mut cmd, text);
    Some(if code == 0 { Ok(()) } else { Err(out) })
}

/// The samples the Python parser reads, as JSON.
pub fn parsed_samples(text: &str, openmetrics: bool) -> Option<serde_json::Value> {
    let py = python()?;
    let mut cmd = Command::new(py);
    cmd.arg(peers_dir().join("samples.py"));
    if openmetrics {
        cmd.arg("--openmetrics");
    }
    let (code, out) = run(&mut cmd, text);
    assert_eq!(code, 0, "python parser failed: {out}");
    Some(serde_json::from_str(&out).expect("json from samples.py"))
}

/// `promtool check metrics`: Ok, Err(output) on parse errors or lint problems, None when skipped.
pub fn promtool(text: &str) -> Option<Result<(), String>> {
    if Command::new("promtool").arg("--version").output().is_err() {
        return missing("promtool (Debian package `prometheus`)", install_command("promtool"));
    }
    let (code, out) = run(Command::new("promtool").args(["check", "metrics"]), text);
    Some(if code == 0 { Ok(()) } else { Err(format!("exit {code}: {out}")) })
}

/// Whether a command-line tool is installed: fails the test when it is not, unless the run
/// opted out with [`SKIP_VAR`] (then `false`, and the check is counted as skipped).
pub fn tool(name: &str, version_arg: &str) -> bool {
    let ok = Command::new(name).arg(version_arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    ok || missing::<()>(name, install_command(name)).is_some()
}

/// A built example (cargo builds the examples whose features are on before it runs tests).
pub fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe.parent()?.parent()?.join("examples").join(name);
    if path.exists() {
        Some(path)
    } else {
        missing(&format!("the {name} example at {}", path.display()), "cargo build --examples --all-features")
    }
}

/// The directory of the project's peer scripts.
pub fn peers() -> PathBuf {
    peers_dir()
}

/// Runs a peer script with arguments; returns its exit code and stdout + stderr.
pub fn script(name: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new("bash").arg(peers_dir().join(name)).args(args).stdin(Stdio::null()).output().expect("bash");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Test certificates (CA, server, client, rogue) made once per test binary by make-certs.sh.
pub fn certs() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("codomyrmex-certs-{}", std::process::id()));
        let (code, out) = script("make-certs.sh", &[dir.to_str().unwrap()]);
        assert_eq!(code, 0, "make-certs.sh failed: {out}");
        dir
    })
    .clone()
}

/// Every self-metric `(full family, reason)` this build can expose: the core's and each
/// compiled-in backend's set.
pub fn self_metric_reasons() -> Vec<(String, &'static str)> {
    fn of<R: codomyrmex_metrics::SelfReason>() -> impl Iterator<Item = (String, &'static str)> {
        R::REASONS.iter().map(|(f, r)| (format!("{}{f}", codomyrmex_metrics::SELF_PREFIX), *r))
    }
    #[allow(unused_mut)] // with no backend compiled in
    let mut all: Vec<(String, &'static str)> = of::<codomyrmex_metrics::Event>().collect();
    #[cfg(feature = "prometheus")]
    all.extend(of::<codomyrmex_metrics::ScrapeEvent>());
    #[cfg(feature = "pushgateway")]
    all.extend(of::<codomyrmex_metrics::PushEvent>());
    #[cfg(feature = "statsd")]
    all.extend(of::<codomyrmex_metrics::StatsdEvent>());
    #[cfg(feature = "otlp")]
    all.extend(of::<codomyrmex_metrics::OtlpEvent>());
    all
}
