//! Record through the typed API and the `metrics` facade, then print what a
//! Prometheus scrape would get. Run: `cargo run --example record_and_render`.
//!
//! The backend comes from `CODOMYRMEX_METRICS_BACKEND` (default `memory://`), so the same
//! binary can be pointed elsewhere without code changes.

use codomyrmex_metrics::{Buckets, Format, MetricOpts, MetricsBuilder, Unit};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let metrics = MetricsBuilder::from_env()?.build()?;

    // Typed API: label keys declared once; the policy runs when a label set is first seen.
    let requests = metrics.counter_family("http_requests", "HTTP requests served.", &["method", "route", "status"])?;
    let latency = metrics.register_histogram(
        MetricOpts::new("http_request_duration", "Request latency.")
            .unit(Unit::SECONDS)
            .labels(["route"])
            .buckets(Buckets::exponential(0.001, 2.0, 12)?),
    )?;
    let in_flight = metrics.gauge("http_requests_in_flight", "Requests being served.")?;

    let ok = requests.with(&["GET", "/users/:id", "200"]); // resolve once, keep the handle
    for i in 0..5 {
        in_flight.inc();
        ok.inc();
        latency.with(&["/users/:id"]).observe(0.003 * f64::from(i + 1));
        in_flight.dec();
    }
    // Hostile input is handled, never exported as given:
    requests.with(&["POST", "/login?user=alice@example.com", "401"]).inc(); // redacted
    requests.with(&["GET", "/x\n# TYPE evil counter", "200"]).inc(); // control characters removed

    // The `metrics` facade flows through the same policy.
    metrics::with_local_recorder(&metrics.recorder(), || {
        metrics::describe_counter!("jobs_processed", "Background jobs processed.");
        metrics::counter!("jobs_processed", "queue" => "email").increment(3);
    });

    print!("{}", metrics.render(Format::PrometheusText));
    metrics.shutdown()?;
    Ok(())
}
