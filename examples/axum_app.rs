//! An axum service that serves its own metrics: `HttpMetricsLayer` with status classes and
//! sizes, the scrape endpoint mounted as a route of the app (`ScrapeHandler`, with every
//! protection but the connection-level ones), a business counter kept in the app state, the
//! process metrics, and the `metrics` macros in library code.
//!
//! ```sh
//! echo "a-long-random-token-value" > token && chmod 600 token
//! METRICS_TOKEN_FILE=token cargo run --example axum_app --features full
//! curl -X POST localhost:3000/carts/42/items; curl -H 'Authorization: Bearer a-long-random-token-value' localhost:3000/metrics
//! ```
//!
//! Without `METRICS_TOKEN_FILE` the metrics route needs no token (the app listens on loopback).
//! `APP_ADDR` changes the address (default `127.0.0.1:3000`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use codomyrmex_metrics::{
    CounterFamily, HttpMetricsLayer, MetricsBuilder, PrometheusConfig, ScrapeHandler, StatusLabel,
};

#[derive(Clone)]
struct AppState {
    items_added: CounterFamily,
    scrape: ScrapeHandler,
}

async fn add_item(State(state): State<AppState>, Path(cart): Path<u64>) -> impl IntoResponse {
    // A business metric with a bounded label; the cart id is not a label.
    state.items_added.with(&[if cart % 2 == 0 { "even" } else { "odd" }]).inc();
    metrics::histogram!("cart_size").record(3.0); // library code through the facade
    (StatusCode::CREATED, "added\n")
}

async fn scrape(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> impl IntoResponse {
    state.scrape.handle(req, Some(peer.ip())).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The app serves the metrics itself, so the backend is in-memory (or StatsD, from the environment).
    let metrics = MetricsBuilder::from_env()?.build()?;
    if let Err(e) = metrics.register_process_metrics() {
        eprintln!("no process metrics: {e}");
    }
    metrics.install_recorder()?;

    let mut scrape_config = PrometheusConfig::builder();
    if let Some(file) = std::env::var_os("METRICS_TOKEN_FILE") {
        scrape_config = scrape_config.bearer_token_file(std::path::Path::new(&file))?;
        // refused unless mode 600
    }
    let state = AppState {
        items_added: metrics.counter_family("cart_items_added", "Items added to carts.", &["parity"])?,
        scrape: ScrapeHandler::new(metrics.registry().clone(), &scrape_config.build()?),
    };
    let layer = HttpMetricsLayer::builder().status_label(StatusLabel::Class).sizes(true).build(&metrics)?;
    let app = Router::new()
        .route("/carts/{cart}/items", post(add_item))
        .route("/metrics", get(scrape))
        .with_state(state)
        .layer(layer);

    let addr: SocketAddr = std::env::var("APP_ADDR").as_deref().unwrap_or("127.0.0.1:3000").parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("app and metrics on http://{}/", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    tokio::task::spawn_blocking(move || metrics.shutdown()).await??;
    Ok(())
}
