//! The quick start's app on metrics + metrics-exporter-prometheus + axum-prometheus.
use axum::{routing::get, Router};
use axum_prometheus::PrometheusMetricLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (layer, handle) = PrometheusMetricLayer::pair();
    let app = Router::new()
        .route("/users/{id}", get(|| async { "hi" }))
        .route("/metrics", get(move || async move { handle.render() }))
        .layer(layer);
    metrics::counter!("app_started_total").increment(1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; }).await?;
    Ok(())
}
