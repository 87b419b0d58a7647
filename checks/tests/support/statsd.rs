//! The real Etsy statsd 0.9.0 (npm) with stunnel4 for TLS, through the project's own
//! `tests/peers/statsd.sh`: one instance per test on free ports and its own state directory,
//! stopped on drop.

use std::path::PathBuf;
use std::process::Command;

/// One statsd daemon (UDP, TCP, Unix stream and datagram sockets, management port) with
/// stunnel in front of its TCP port.
pub struct Statsd {
    pub udp: u16,
    pub tcp: u16,
    pub mgmt: u16,
    pub tls: u16,
    pub run: PathBuf,
    mtls: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Statsd {
    /// Starts one; `None` (outside CI) when node or stunnel4 cannot be had.
    pub fn start(mtls: bool) -> Option<Self> {
        if !super::tool("node", "--version") || !super::tool("stunnel4", "-version") || !super::tool("socat", "-V") {
            return None;
        }
        let run = std::env::temp_dir().join(format!("codomyrmex-statsd-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&run).unwrap();
        let s = Self { udp: free_port(), tcp: free_port(), mgmt: free_port(), tls: free_port(), run, mtls };
        s.script(&["start"]);
        Some(s)
    }

    pub fn script(&self, args: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(super::peers().join("statsd.sh"))
            .args(args)
            .env("E2E_RUN", &self.run)
            .env("STATSD_UDP_PORT", self.udp.to_string())
            .env("STATSD_TCP_PORT", self.tcp.to_string())
            .env("STATSD_MGMT_PORT", self.mgmt.to_string())
            .env("STATSD_TLS_PORT", self.tls.to_string())
            .env("STATSD_CERT_DIR", super::certs())
            .env("STATSD_TLS_MTLS", if self.mtls { "1" } else { "0" })
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "statsd.sh {args:?}: {}{text}", String::from_utf8_lossy(&out.stderr));
        text
    }

    /// Counters summed, last gauges and every timer sample since start or reset.
    pub fn dump(&self) -> serde_json::Value {
        serde_json::from_str(&self.script(&["dump"])).expect("statsd.sh dump prints JSON")
    }

    pub fn counter(dump: &serde_json::Value, key: &str) -> f64 {
        dump["counters"][key].as_f64().unwrap_or(0.0)
    }

    pub fn lines(&self) -> String {
        self.script(&["lines"])
    }

    pub fn sock(&self) -> PathBuf {
        self.run.join("statsd.sock")
    }

    pub fn dgram(&self) -> PathBuf {
        self.run.join("statsd.dgram")
    }
}

impl Drop for Statsd {
    fn drop(&mut self) {
        let _ =
            Command::new("bash").arg(super::peers().join("statsd.sh")).arg("stop").env("E2E_RUN", &self.run).output();
    }
}
