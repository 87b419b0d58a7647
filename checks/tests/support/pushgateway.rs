//! The real Pushgateway (Debian's 1.5.1) through the project's own `tests/peers/pushgateway.sh`:
//! one per test on its own port and state directory, over HTTP, HTTPS or mutual TLS (the
//! test CA of `make-certs.sh`), stopped on drop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How the gateway listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Http,
    Https,
    /// HTTPS, and a client certificate signed by the test CA is required.
    MutualTls,
}

/// One gateway on its own port and state directory, stopped on drop.
pub struct Gateway {
    pub port: u16,
    run: PathBuf,
    listen: Listen,
}

/// A port free right now, for peers that cannot be handed a bound socket.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Gateway {
    pub fn on(port: u16, listen: Listen) -> Option<Self> {
        if !super::tool("prometheus-pushgateway", "--version") {
            return None;
        }
        let run = std::env::temp_dir().join(format!("codomyrmex-pgw-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&run).unwrap();
        let g = Self { port, run, listen };
        g.script(&["start"]);
        Some(g)
    }

    pub fn start() -> Option<Self> {
        Self::on(free_port(), Listen::Http)
    }

    pub fn start_tls(listen: Listen) -> Option<Self> {
        Self::on(free_port(), listen)
    }

    pub fn script(&self, args: &[&str]) -> String {
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(super::peers().join("pushgateway.sh"))
            .args(args)
            .env("PGW_PORT", self.port.to_string())
            .env("E2E_RUN", &self.run);
        if self.listen != Listen::Http {
            cmd.env("PGW_TLS_DIR", super::certs());
        }
        if self.listen == Listen::MutualTls {
            cmd.env("PGW_MTLS", "1");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "pushgateway.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn url(&self) -> String {
        let scheme = if self.listen == Listen::Http { "http" } else { "https" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        format!("127.0.0.1:{}", self.port).parse().unwrap()
    }

    /// Sample lines the gateway serves for `name`.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.script(&["query", "--all"]).lines().filter(|l| l.starts_with(name)).map(str::to_owned).collect()
    }

    /// Waits until a line for `name` contains every part, and returns it.
    pub fn wait_for(&self, name: &str, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(l) = self.lines(name).into_iter().find(|l| parts.iter().all(|p| l.contains(p))) {
                return l;
            }
            assert!(Instant::now() < deadline, "no {name} line with {parts:?}; saw {:?}", self.lines(name));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(super::peers().join("pushgateway.sh"))
            .arg("stop")
            .env("PGW_PORT", self.port.to_string())
            .env("E2E_RUN", &self.run)
            .output();
        let _ = std::fs::remove_dir_all(&self.run);
    }
}
