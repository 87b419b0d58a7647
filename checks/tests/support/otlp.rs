//! The OTLP receiver on the official OpenTelemetry protobuf definitions (opentelemetry-proto
//! 1.45.2 and grpcio, in `checks/tests/peers/.venv`), through the project's own
//! `tests/peers/otlp.sh`: one per test on its own ports and run directory, stopped on drop.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::pushgateway::free_port;

/// One receiver, stopped on drop.
pub struct Receiver {
    pub grpc_port: u16,
    pub http_port: u16,
    run: PathBuf,
    tls: bool,
    options: Vec<String>,
}

impl Receiver {
    /// A receiver started with `options` (`--tls`, `--mtls`, `--require-header N=V`,
    /// `--fail-first N`, `--fail-status S`, `--retry-after S`, `--partial-reject K`);
    /// `None` only when the run skips missing peers and Python is missing.
    pub fn start(options: &[&str]) -> Option<Self> {
        if !super::tool("python3", "--version") || !super::tool("nc", "-h") {
            return None;
        }
        let (grpc_port, http_port) = (free_port(), free_port());
        let run = std::env::temp_dir().join(format!("codomyrmex-otlp-{}-{http_port}", std::process::id()));
        std::fs::create_dir_all(&run).unwrap();
        let tls = options.iter().any(|o| *o == "--tls" || *o == "--mtls");
        let r = Self { grpc_port, http_port, run, tls, options: options.iter().map(|o| (*o).to_owned()).collect() };
        let mut args = vec!["start".to_owned()];
        args.extend(r.options.clone());
        r.script(&args.iter().map(String::as_str).collect::<Vec<_>>());
        Some(r)
    }

    /// Starts it again with the same options (after [`Self::stop`]); the dump starts empty.
    pub fn restart(&self) {
        let mut args = vec!["start".to_owned()];
        args.extend(self.options.clone());
        self.script(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    pub fn stop(&self) {
        self.script(&["stop"]);
    }

    pub fn script(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("bash");
        cmd.arg(super::peers().join("otlp.sh"))
            .args(args)
            .env("OTLP_GRPC_PORT", self.grpc_port.to_string())
            .env("OTLP_HTTP_PORT", self.http_port.to_string())
            .env("E2E_RUN", &self.run);
        if self.tls {
            cmd.env("OTLP_CERT_DIR", super::certs());
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "otlp.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `otlp+http(s)://127.0.0.1:PORT` for the HTTP port.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "https" } else { "http" }, self.http_port)
    }

    /// `otlp+grpc(s)://127.0.0.1:PORT` for the gRPC port.
    pub fn grpc_url(&self) -> String {
        format!("otlp+{}://127.0.0.1:{}", if self.tls { "grpcs" } else { "grpc" }, self.grpc_port)
    }

    /// Every data point received so far, flattened (`otlp.sh points`).
    pub fn points(&self) -> Vec<Value> {
        self.script(&["points"])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The accepted requests (`otlp.sh dump`).
    pub fn requests(&self) -> Vec<Value> {
        self.script(&["dump"])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The refused attempts (`otlp.sh dump --rejected`).
    pub fn rejected(&self) -> Vec<Value> {
        self.script(&["dump", "--rejected"])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `f` holds for the points, or fails after `limit`.
    pub fn wait_for(&self, limit: Duration, what: &str, f: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let end = Instant::now() + limit;
        loop {
            let points = self.points();
            if f(&points) {
                return points;
            }
            assert!(Instant::now() < end, "{what}: not within {limit:?}; points: {points:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(super::peers().join("otlp.sh"))
            .arg("stop")
            .env("OTLP_GRPC_PORT", self.grpc_port.to_string())
            .env("OTLP_HTTP_PORT", self.http_port.to_string())
            .env("E2E_RUN", &self.run)
            .output();
        let _ = std::fs::remove_dir_all(&self.run);
    }
}
