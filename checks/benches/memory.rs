//! Heap held: after 10M histogram observations with no scrape, and per series (100k counter
//! series with one label), every peer in one run. Run: `cargo bench -p codomyrmex-metrics-checks --bench memory`.

mod common;

use codomyrmex_metrics::{Buckets, Policy, Registry};
use common::tracking_alloc::{live, Tracking};
use common::Table;
use measured::{CounterVec, LabelGroup};
use paracord::ParaCord;

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Bytes still held after `f` that were not held before it (what `f` keeps alive is returned
/// and dropped only after the measurement).
fn held<T>(f: impl FnOnce() -> T) -> (isize, T) {
    let before = live();
    let kept = f();
    (live() - before, kept)
}

#[derive(Clone, Copy, PartialEq, Debug, LabelGroup)]
#[label(set = KindSet)]
struct Kind<'a> {
    #[label(dynamic_with = ParaCord)]
    kind: &'a str,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n_obs: u64 = if common::quick() { 1_000_000 } else { 10_000_000 };
    let mut t = Table::new(&format!("heap held after {n_obs} histogram observations, no scrape"), "bytes");

    let r = Registry::default();
    let h = r.histogram("h", "h", Buckets::default()).unwrap();
    let (bytes, ()) = held(|| (0..n_obs).for_each(|i| h.observe((i % 1000) as f64 / 100.0)));
    t.add("codomyrmex", bytes as f64);

    let pch = prometheus_client::metrics::histogram::Histogram::new(Buckets::DEFAULT_BOUNDS);
    let (bytes, ()) = held(|| (0..n_obs).for_each(|i| pch.observe((i % 1000) as f64 / 100.0)));
    t.add("prometheus-client", bytes as f64);

    let ph = prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("h", "h")).unwrap();
    let (bytes, ()) = held(|| (0..n_obs).for_each(|i| ph.observe((i % 1000) as f64 / 100.0)));
    t.add("prometheus", bytes as f64);

    let rec = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let mh = metrics::with_local_recorder(&rec, || metrics::histogram!("h"));
    let (bytes, ()) = held(|| (0..n_obs).for_each(|i| mh.record((i % 1000) as f64 / 100.0)));
    t.add("metrics+exporter-prometheus", bytes as f64);
    t.print("codomyrmex", None);
    drop((rec, mh));

    const SERIES: usize = 100_000;
    let names: Vec<String> = (0..SERIES).map(|i| format!("series-{i:06}")).collect();
    let mut t = Table::new("heap per series (100k counter series, one 13-byte label value)", "bytes/series");

    let (bytes, kept) = held(|| {
        let r = Registry::builder()
            .policy(Policy::default().with_max_series_per_metric(SERIES).with_max_series_total(SERIES))
            .build();
        let f = r.counter_family("c", "h", &["kind"]).unwrap();
        for k in &names {
            f.inc(&[k]);
        }
        r
    });
    t.add("codomyrmex", bytes as f64 / SERIES as f64);
    drop(kept);

    let (bytes, kept) = held(|| {
        let v = CounterVec::with_label_set(KindSet { kind: ParaCord::default() });
        for k in &names {
            v.inc(Kind { kind: k });
        }
        v
    });
    t.add("measured", bytes as f64 / SERIES as f64);
    drop(kept);

    let (bytes, kept) = held(|| {
        let f: prometheus_client::metrics::family::Family<
            [(&'static str, String); 1],
            prometheus_client::metrics::counter::Counter,
        > = Default::default();
        for k in &names {
            f.get_or_create(&[("kind", k.clone())]).inc();
        }
        f
    });
    t.add("prometheus-client", bytes as f64 / SERIES as f64);
    drop(kept);

    let (bytes, kept) = held(|| {
        let v = prometheus::IntCounterVec::new(prometheus::Opts::new("c", "h"), &["kind"]).unwrap();
        for k in &names {
            v.with_label_values(&[k]).inc();
        }
        v
    });
    t.add("prometheus", bytes as f64 / SERIES as f64);
    drop(kept);

    let (bytes, kept) = held(|| {
        let rec = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&rec, || {
            for k in &names {
                metrics::counter!("c", "kind" => k.clone()).increment(1);
            }
        });
        rec
    });
    t.add("metrics+exporter-prometheus", bytes as f64 / SERIES as f64);
    drop(kept);
    t.print("codomyrmex", Some(("measured", 2.0)));
}
