//! Records a counter, a gauge and a histogram and exports them over OTLP/HTTP to the endpoint
//! the standard OpenTelemetry variables name (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else
//! `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/metrics`, else `http://localhost:4318/v1/metrics`),
//! with their headers, compression, temporality and resource variables. The export happens at
//! shutdown (a long-running service would also export every 60 s); an export the receiver
//! did not accept is the exit error.
//!
//! Run it against an OpenTelemetry Collector on its default port:
//! `cargo run --features otlp --example otlp_push`
//! or against the test receiver: `checks/tests/peers/otlp.sh start`, then
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:14318 OTEL_SERVICE_NAME=shop cargo run --features otlp --example otlp_push`
//! and `checks/tests/peers/otlp.sh points` shows what arrived.

use codomyrmex_metrics::{get_metrics, Backend, Buckets, OtlpConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = OtlpConfig::from_env()?;
    println!("exporting to {}", config.endpoint());
    let metrics = get_metrics(Backend::Otlp(config))?;

    let orders = metrics.counter_family("orders", "Orders placed.", &["region"])?;
    orders.with(&["eu"]).inc_by(3);
    orders.with(&["us"]).inc();
    metrics.gauge("queue_depth", "Jobs waiting.")?.set(7.0);
    let checkout =
        metrics.registry().histogram("checkout_seconds", "Checkout time.", Buckets::new([0.1, 0.5, 1.0])?)?;
    for seconds in [0.08, 0.3, 0.7, 2.0] {
        checkout.observe(seconds);
    }

    // The final export: everything recorded so far, before the process exits.
    metrics.shutdown()?;
    println!("exported 4 series");
    Ok(())
}
