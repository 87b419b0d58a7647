//! Golden expositions for the tricky cases. Each is rendered in both formats, compared with
//! `tests/golden/NAME.{prom,om}` (`UPDATE_GOLDEN=1` rewrites them), and checked whole by the
//! Python parsers and `promtool check metrics`. The goldens leave out the crate's own
//! `codomyrmex_metrics_*` families, which grow with each backend and have their own tests.

mod support;

use codomyrmex_metrics::{Buckets, Format, Policy, Registry, ValueAllowlist};

fn check(name: &str, registry: &Registry) {
    for (format, ext) in [(Format::PrometheusText, "prom"), (Format::OpenMetrics, "om")] {
        let text = registry.render(format);
        let user_lines: String = text.split_inclusive('\n').filter(|l| !l.contains("codomyrmex_metrics_")).collect();
        let path = format!("{}/tests/golden/{name}.{ext}", env!("CARGO_MANIFEST_DIR"));
        if std::env::var("UPDATE_GOLDEN").is_ok() {
            std::fs::write(&path, &user_lines).unwrap();
        }
        let golden =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e} (UPDATE_GOLDEN=1 writes it)"));
        assert_eq!(user_lines, golden, "{path} differs");
        if let Some(result) = support::strict_parse(&text, format == Format::OpenMetrics) {
            result.unwrap_or_else(|e| panic!("{path}: python parser refused it: {e}"));
        }
        if format == Format::PrometheusText {
            if let Some(result) = support::promtool(&text) {
                result.unwrap_or_else(|e| panic!("{path}: promtool refused it: {e}"));
            }
        }
    }
}

#[test]
fn escaping() {
    let r = Registry::default();
    let f = r
        .counter_family("escaping_requests", "Help with a backslash \\ a quote \" and a\nline feed.", &["value"])
        .unwrap();
    for v in ["plain", "quote\"inside", "back\\slash", "\\n literally", "ünïcödé ✓", "{a=\"b\"},#:@|=", "", " "] {
        f.with(&[v]).inc();
    }
    check("escaping", &r);
}

#[test]
fn sanitizing() {
    let r = Registry::builder()
        .policy(
            Policy::default()
                .with_max_label_value_len(16)
                .with_value_allowlist("method", ValueAllowlist::set(["GET", "POST"])),
        )
        .build();
    let f = r.counter_family("sanitized_requests", "Sanitized values.", &["method", "path"]).unwrap();
    f.with(&["GET", "/line\nfeed\r\ttab"]).inc();
    f.with(&["GET", "/a/very/long/path/that/is/cut"]).inc();
    f.with(&["TRACE", "/é/é/é/é/é/é/é/é/é"]).inc();
    check("sanitizing", &r);
}

#[test]
fn redaction() {
    let r = Registry::default();
    let f = r.counter_family("redacted_logins", "Logins by user.", &["user"]).unwrap();
    for v in [
        "alice@example.com",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "Bearer 0123456789abcdef",
        "4111111111111111",
        "AKIAIOSFODNN7EXAMPLE",
        "guest",
    ] {
        f.with(&[v]).inc();
    }
    check("redaction", &r);
}

#[test]
fn overflow() {
    let r = Registry::builder().policy(Policy::default().with_max_series_per_metric(2)).build();
    let f = r.counter_family("overflow_jobs", "Jobs by id.", &["id"]).unwrap();
    for id in 0..5 {
        f.with(&[&id.to_string()]).inc_by(id + 1);
    }
    let g = r.gauge_family("overflow_queue_depth", "Depth by queue.", &["queue"]).unwrap();
    for q in ["a", "b", "c"] {
        g.with(&[q]).set(2.5);
    }
    check("overflow", &r);
}

#[test]
fn histograms() {
    let r = Registry::builder().global_label("service", "api").unwrap().build();
    let h = r.histogram_family("request_duration_seconds", "Request latency.", &["route"], Buckets::default()).unwrap();
    for (i, v) in [0.001, 0.02, 0.02, 0.3, 4.0, 11.0].into_iter().enumerate() {
        h.with(&[if i % 2 == 0 { "/a" } else { "/b" }]).observe(v);
    }
    let sizes = r.histogram("payload_bytes", "Payload sizes.", Buckets::exponential(64.0, 4.0, 4).unwrap()).unwrap();
    sizes.observe(100.0);
    sizes.observe(1e6);
    let _never_observed =
        r.histogram("never_observed_seconds", "Empty.", Buckets::linear(0.5, 0.5, 2).unwrap()).unwrap();
    check("histograms", &r);
}
