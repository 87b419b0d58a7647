//! Debian's tinyproxy as a forward proxy, through the project's own `tests/peers/proxy.sh`:
//! one per test on its own port and state directory, with or without Basic proxy auth,
//! stopped on drop. Its log is the proof of what went through it.

use std::path::PathBuf;

pub struct Proxy {
    pub port: u16,
    run: PathBuf,
}

impl Proxy {
    /// Starts one; `auth` is (user, password), which tinyproxy takes from `[-A-Za-z0-9._]`.
    pub fn start(auth: Option<(&str, &str)>) -> Option<Self> {
        if !super::tool("tinyproxy", "-v") || !super::tool("nc", "-h") {
            return None;
        }
        let port = super::pushgateway::free_port();
        let run = std::env::temp_dir().join(format!("codomyrmex-proxy-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&run).unwrap();
        let p = Self { port, run };
        match auth {
            Some((u, pw)) => p.script(&["start", "--auth", u, pw]),
            None => p.script(&["start"]),
        };
        Some(p)
    }

    fn script(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("bash")
            .arg(super::peers().join("proxy.sh"))
            .args(args)
            .env("PROXY_PORT", self.port.to_string())
            .env("E2E_RUN", &self.run)
            .output()
            .unwrap();
        assert!(out.status.success(), "proxy.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The whole log since start.
    pub fn log(&self) -> String {
        self.script(&["log", "--all"])
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(super::peers().join("proxy.sh"))
            .arg("stop")
            .env("PROXY_PORT", self.port.to_string())
            .env("E2E_RUN", &self.run)
            .output();
        let _ = std::fs::remove_dir_all(&self.run);
    }
}
