//! A policy of your own: label-value allowlists, IP addresses hashed rather than exported,
//! a tight series limit with its overflow series, a prefix and global labels, and `try_with`
//! to see in tests what the policy would change.
//!
//! Run: `cargo run --example custom_policy`. It prints the metric and the self-metrics that
//! counted what the policy changed.

use codomyrmex_metrics::{Backend, Format, MetricsBuilder, Policy, RegistryBuilder, SensitiveAction, ValueAllowlist};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = Policy::default()
        // `region` may only take these values; anything else becomes `other`.
        .with_value_allowlist("region", ValueAllowlist::set(["eu-west", "us-east"]))
        // `tenant` must look like `t-` and digits.
        .with_value_allowlist("tenant", ValueAllowlist::pattern("^t-[0-9]{1,6}$")?)
        // Look for IP addresses too, and hash what looks sensitive instead of `[REDACTED]`:
        // the series stay distinct, the values stay private.
        .with_redact_ip_addresses(true)
        .with_sensitive_action(SensitiveAction::Hash)
        // At most 3 series for `logins`; later label sets share one overflow series.
        .with_metric_series_limit("logins", 3);
    let registry = RegistryBuilder::default().policy(policy).prefix("shop_")?.global_label("service", "checkout")?;
    let metrics = MetricsBuilder::new(Backend::InMemory).registry(registry).build()?;

    let logins =
        metrics.counter_family("logins", "Logins by tenant, region and client.", &["tenant", "region", "client"])?;
    logins.with(&["t-1", "eu-west", "web"]).inc();
    logins.with(&["t-2", "mars", "web"]).inc(); // region not allowed: `other`
    logins.with(&["t-3", "us-east", "203.0.113.7"]).inc(); // an IP address: hashed
    for tenant in ["t-4", "t-5", "t-6"] {
        logins.with(&[tenant, "eu-west", "app"]).inc(); // past 3 series: the overflow series
    }

    // In tests, `try_with` says what the policy would do instead of doing it.
    let refused = logins.try_with(&["../etc/passwd", "eu-west", "web"]).unwrap_err();
    println!("# try_with refused: {refused}");

    let text = metrics.render(Format::PrometheusText);
    // The metric, then the self-metrics that counted something.
    for line in text.lines().filter(|l| l.starts_with("shop_") || (l.starts_with("codomyrmex") && !l.ends_with(" 0"))) {
        println!("{line}");
    }
    assert!(text.contains("shop_logins_total{service=\"checkout\",tenant=\"t-2\",region=\"other\",client=\"web\"} 1"));
    assert!(!text.contains("203.0.113.7"));
    assert!(text.contains("codomyrmex_overflow=\"true\""));
    metrics.shutdown()?;
    Ok(())
}
