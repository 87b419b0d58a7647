//! `Registry::for_each_series`: the structured view custom exporters read agrees with the
//! rendered exposition, labels unescaped, overflow included, self-metrics left out.

use codomyrmex_metrics::export::SeriesValue;
use codomyrmex_metrics::{Buckets, Format, Policy, Registry};

#[test]
fn every_series_is_visited_with_unescaped_labels_and_current_values() {
    let r = Registry::builder()
        .policy(Policy::default().with_max_series_per_metric(2))
        .global_label("env", "test")
        .unwrap()
        .build();
    let c = r.counter_family("jobs", "Jobs.", &["queue"]).unwrap();
    c.with(&["a\"b\\c"]).inc_by(3);
    c.with(&["plain"]).inc();
    c.with(&["third"]).inc_by(5); // overflow
    r.gauge("depth", "Depth.").unwrap().set(-2.5);
    let h = r.histogram("lat", "Latency.", Buckets::new([1.0, 2.0]).unwrap()).unwrap();
    h.observe(1.5);

    let mut seen = Vec::new();
    r.for_each_series(|s| {
        let value = match s.value {
            SeriesValue::Counter(v) | SeriesValue::Gauge(v) => v,
            SeriesValue::Histogram(cell) => cell.count() as f64,
            _ => f64::NAN,
        };
        seen.push((s.name().to_owned(), s.label_pairs(), value));
    });
    let pairs = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    assert_eq!(
        seen,
        vec![
            ("depth".to_owned(), vec![], -2.5),
            ("jobs".to_owned(), pairs("queue", "a\"b\\c"), 3.0),
            ("jobs".to_owned(), pairs("queue", "plain"), 1.0),
            ("jobs".to_owned(), pairs("codomyrmex_overflow", "true"), 5.0),
            ("lat".to_owned(), vec![], 1.0),
        ]
    );
    assert_eq!(r.global_labels(), &[("env".to_owned(), "test".to_owned())]);
    assert!(r.render(Format::PrometheusText).contains("jobs_total{env=\"test\",queue=\"a\\\"b\\\\c\"} 3\n"));
}
