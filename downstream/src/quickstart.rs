//! The README's quick start, as a user copies it.

use codomyrmex_metrics::{get_metrics, Backend, Format};

pub const CHECKS: &[crate::Check] = &[("README quick start renders what it promises", readme_quick_start)];

fn readme_quick_start() {
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let requests = metrics.counter_family("http_requests", "HTTP requests served.", &["method", "status"]).unwrap();
    let ok = requests.with(&["GET", "200"]);
    ok.inc();

    metrics::with_local_recorder(&metrics.recorder(), || {
        metrics::counter!("jobs_done", "queue" => "mail").increment(1);
    });

    let text = metrics.render(Format::PrometheusText);
    assert!(text.contains("http_requests_total{method=\"GET\",status=\"200\"} 1\n"), "{text}");
    assert!(
        text.contains("jobs_done{queue=\"mail\"} 1\n") || text.contains("jobs_done_total{queue=\"mail\"} 1\n"),
        "{text}"
    );
    let om = metrics.render(Format::OpenMetrics);
    assert!(om.ends_with("# EOF\n"), "{om}");
    metrics.shutdown().unwrap();
}
