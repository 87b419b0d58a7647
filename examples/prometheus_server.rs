//! A scrape endpoint, plain by default: `cargo run --example prometheus_server --features prometheus`
//! then `curl http://127.0.0.1:9464/metrics`.
//!
//! TLS and auth come from the environment, so the same binary can be hardened without code
//! changes (build with `--features prometheus,tls` for TLS):
//! - `CODOMYRMEX_METRICS_BACKEND=prometheus+tls://0.0.0.0:9464/metrics`
//! - `CODOMYRMEX_METRICS_TLS_CERT=server.crt CODOMYRMEX_METRICS_TLS_KEY=server.key` (mode 600)
//! - `CODOMYRMEX_METRICS_TLS_CLIENT_CA=ca.crt` for mTLS
//! - `CODOMYRMEX_METRICS_BASIC_AUTH_FILE=users` (`user:bcrypt-hash` lines, mode 600)
//!   or `CODOMYRMEX_METRICS_BEARER_TOKEN_FILE=token` (mode 600)
//!
//! `EXAMPLE_RUN_SECONDS` stops it after that many seconds (CI uses it).

use std::time::Duration;

use codomyrmex_metrics::{Backend, MetricsBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = MetricsBuilder::from_env()?;
    if std::env::var("CODOMYRMEX_METRICS_BACKEND").is_err() {
        builder = MetricsBuilder::new("prometheus://127.0.0.1:9464/metrics".parse::<Backend>()?);
    }
    let metrics = builder.build()?;
    let ticks = metrics.counter("example_ticks", "Ticks of the example loop.")?;
    let temperature = metrics.gauge("example_temperature_celsius", "A made-up temperature.")?;
    println!("serving metrics; scrape http(s)://127.0.0.1:9464/metrics (Ctrl-C to stop)");
    let run_for = std::env::var("EXAMPLE_RUN_SECONDS").ok().and_then(|s| s.parse::<u64>().ok());
    let mut elapsed = 0;
    loop {
        ticks.inc();
        temperature.set(20.0 + (elapsed % 10) as f64 / 2.0);
        std::thread::sleep(Duration::from_secs(1));
        elapsed += 1;
        if run_for.is_some_and(|limit| elapsed >= limit) {
            break;
        }
    }
    metrics.shutdown()?;
    Ok(())
}
