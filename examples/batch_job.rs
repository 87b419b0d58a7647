//! A batch job that pushes its numbers to a Pushgateway, once at the end (and every 10 s while
//! it runs): `cargo run --example batch_job --features pushgateway`.
//!
//! The gateway comes from `CODOMYRMEX_METRICS_BACKEND` (default
//! `pushgateway://127.0.0.1:9091/job/batch_example/instance/example`); credentials from
//! `CODOMYRMEX_METRICS_PUSH_USER` + `CODOMYRMEX_METRICS_PUSH_PASSWORD_FILE` or
//! `CODOMYRMEX_METRICS_PUSH_BEARER_TOKEN_FILE` (files of mode 600), and `pushgateway+https://`
//! with the `tls` feature. With no gateway there, the job still finishes: pushes are retried
//! in the background and the shutdown reports the failure.

use std::time::{Duration, Instant};

use codomyrmex_metrics::{Backend, Buckets, MetricsBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = MetricsBuilder::from_env()?;
    if std::env::var("CODOMYRMEX_METRICS_BACKEND").is_err() {
        let url = "pushgateway://127.0.0.1:9091/job/batch_example/instance/example";
        builder = MetricsBuilder::new(url.parse::<Backend>()?);
    }
    let metrics = builder.build()?;

    let started = Instant::now();
    let records = metrics.counter_family("batch_records_processed", "Records processed, by outcome.", &["outcome"])?;
    let record_time = metrics.histogram(
        "batch_record_duration_seconds",
        "Time per record.",
        Buckets::exponential(0.0001, 4.0, 8)?,
    )?;
    for i in 0..1_000u32 {
        let t = Instant::now();
        let outcome = if i % 97 == 0 { "rejected" } else { "ok" };
        records.inc(&[outcome]);
        record_time.observe(t.elapsed().as_secs_f64());
    }
    std::thread::sleep(Duration::from_millis(100));
    metrics.gauge("batch_last_duration_seconds", "How long the last run took.")?.set(started.elapsed().as_secs_f64());
    metrics
        .gauge("batch_last_success_timestamp_seconds", "When the last run ended.")?
        .set(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs_f64());

    match metrics.shutdown() {
        Ok(()) => println!("pushed the final numbers"),
        Err(e) => eprintln!("could not push the final numbers: {e}"),
    }
    Ok(())
}
