//! Quick start: a web service measured by codomyrmex-metrics.
//!
//! An axum app on 127.0.0.1:3000 whose requests are counted and timed by `HttpMetricsLayer`,
//! plus the process metrics and a Prometheus scrape endpoint on 127.0.0.1:9464/metrics.
//!
//! ```sh
//! cargo run --example quickstart --features full
//! curl localhost:3000/users/7; curl -X POST localhost:3000/orders; curl localhost:9464/metrics
//! ```
//!
//! Ctrl-C stops it; StatsD gets a last flush. Everything else is switched by environment
//! variables, with no code change (docs/configuration.md lists them all):
//!
//! - `QUICKSTART_ADDR=127.0.0.1:8080`: where the app listens (port 0: any free port).
//! - `CODOMYRMEX_METRICS_BACKEND=prometheus+tls://127.0.0.1:9464/metrics` with
//!   `CODOMYRMEX_METRICS_TLS_CERT` and `CODOMYRMEX_METRICS_TLS_KEY`: HTTPS.
//! - `CODOMYRMEX_METRICS_BEARER_TOKEN_FILE` or `CODOMYRMEX_METRICS_BASIC_AUTH_FILE` (mode 600):
//!   scrapes must authenticate.
//! - `CODOMYRMEX_METRICS_BACKEND=prometheus://127.0.0.1:9464/metrics,statsd://127.0.0.1:8125`:
//!   StatsD as well (`statsd+tcp://`, `statsd+tls://`, `statsd+unix:///path` work too).

use std::net::SocketAddr;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use codomyrmex_metrics::{HttpMetricsLayer, MetricsBuilder, ENV_BACKEND};

/// Where the metrics go when `CODOMYRMEX_METRICS_BACKEND` is not set.
const DEFAULT_BACKEND: &str = "prometheus://127.0.0.1:9464/metrics";

async fn user(Path(id): Path<u64>) -> String {
    format!("user {id}\n")
}

async fn order() -> (StatusCode, &'static str) {
    // Library code keeps using the `metrics` macros; they pass the same policy.
    metrics::counter!("orders_placed", "channel" => "web").increment(1);
    (StatusCode::CREATED, "order placed\n")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |var: &str| std::env::var(var).ok().or_else(|| (var == ENV_BACKEND).then(|| DEFAULT_BACKEND.to_owned()));
    let metrics = MetricsBuilder::from_env_with(env)?.build()?;
    if let Err(e) = metrics.register_process_metrics() {
        eprintln!("no process metrics: {e}"); // they are read from Linux's /proc
    }
    metrics.install_recorder()?;

    let app = Router::new()
        .route("/", get(|| async { "hello\n" }))
        .route("/users/{id}", get(user))
        .route("/orders", post(order))
        .layer(HttpMetricsLayer::new(&metrics)?);

    let addr: SocketAddr = std::env::var("QUICKSTART_ADDR").as_deref().unwrap_or("127.0.0.1:3000").parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("app on {}", listener.local_addr()?);
    for scrape in metrics.local_addrs() {
        println!("metrics on {scrape}");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // `shutdown` blocks while exporters finish (the last StatsD flush): off the async workers.
    tokio::task::spawn_blocking(move || metrics.shutdown()).await??;
    println!("stopped");
    Ok(())
}
