//! Render 100k counters + 10k histograms (one label each, Prometheus' default buckets) in the
//! text format, every peer in one run. Run: `cargo bench -p codomyrmex-metrics-checks --bench render`.

mod common;

use std::hint::black_box;

use codomyrmex_metrics::{Buckets, Format, Policy, Registry};
use common::{median_ns, Table};
use measured::metric::histogram::Thresholds;
use measured::{CounterVec, HistogramVec, LabelGroup, MetricGroup};
use paracord::ParaCord;

const COUNTERS: usize = 100_000;
const HISTOGRAMS: usize = 10_000;

#[derive(Clone, Copy, PartialEq, Debug, LabelGroup)]
#[label(set = KindSet)]
struct Kind<'a> {
    #[label(dynamic_with = ParaCord)]
    kind: &'a str,
}

#[derive(MetricGroup)]
#[metric(new())]
struct MeasuredMetrics {
    /// Counters.
    #[metric(init = CounterVec::with_label_set(KindSet { kind: ParaCord::default() }))]
    counters: CounterVec<KindSet>,
    /// Histograms.
    #[metric(init = HistogramVec::with_label_set_and_metadata(KindSet { kind: ParaCord::default() }, Thresholds::with_buckets(Buckets::DEFAULT_BOUNDS)))]
    latency: HistogramVec<KindSet, 11>,
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i}")).collect()
}

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let samples = if common::quick() { 3 } else { 11 };
    let counters = names(COUNTERS);
    let hists = names(HISTOGRAMS);
    let mut t = Table::new("render 100k counters + 10k histograms (text format)", "ms/render");

    let r = Registry::builder()
        .policy(Policy::default().with_max_series_per_metric(COUNTERS).with_max_series_total(COUNTERS + HISTOGRAMS))
        .build();
    let c = r.counter_family("counters", "Counters.", &["kind"]).unwrap();
    let h = r.histogram_family("latency", "Histograms.", &["kind"], Buckets::default()).unwrap();
    for (i, k) in counters.iter().enumerate() {
        c.inc_by(&[k], i as u64);
    }
    for (i, k) in hists.iter().enumerate() {
        h.observe(&[k], i as f64 / 1000.0);
    }
    let mut buf = String::new();
    r.render_into(Format::PrometheusText, &mut buf);
    let size = buf.len();
    t.add("codomyrmex", ms(median_ns(samples, 1, |_| r.render_into(Format::PrometheusText, black_box(&mut buf)))));

    let m = MeasuredMetrics::new();
    for (i, k) in counters.iter().enumerate() {
        m.counters.inc_by(Kind { kind: k }, i as u64);
    }
    for (i, k) in hists.iter().enumerate() {
        m.latency.observe(Kind { kind: k }, i as f64 / 1000.0);
    }
    let mut enc = measured::text::BufferedTextEncoder::new();
    t.add(
        "measured",
        ms(median_ns(samples, 1, |_| {
            m.collect_group_into(&mut enc).unwrap();
            black_box(enc.finish());
        })),
    );

    {
        use prometheus_client::metrics::{counter::Counter, family::Family, histogram::Histogram};
        let mut reg = prometheus_client::registry::Registry::default();
        let pc: Family<[(&'static str, String); 1], Counter> = Family::default();
        type HistFamily = Family<[(&'static str, String); 1], Histogram, fn() -> Histogram>;
        let ph: HistFamily = Family::new_with_constructor(|| Histogram::new(Buckets::DEFAULT_BOUNDS));
        reg.register("counters", "Counters.", pc.clone());
        reg.register("latency", "Histograms.", ph.clone());
        for (i, k) in counters.iter().enumerate() {
            pc.get_or_create(&[("kind", k.clone())]).inc_by(i as u64);
        }
        for (i, k) in hists.iter().enumerate() {
            ph.get_or_create(&[("kind", k.clone())]).observe(i as f64 / 1000.0);
        }
        let mut out = String::new();
        t.add(
            "prometheus-client",
            ms(median_ns(samples.min(5), 1, |_| {
                out.clear();
                prometheus_client::encoding::text::encode(&mut out, &reg).unwrap();
                black_box(&out);
            })),
        );
    }

    {
        use prometheus::Encoder;
        let reg = prometheus::Registry::new();
        let pc = prometheus::IntCounterVec::new(prometheus::Opts::new("counters", "Counters."), &["kind"]).unwrap();
        let ph =
            prometheus::HistogramVec::new(prometheus::HistogramOpts::new("latency", "Histograms."), &["kind"]).unwrap();
        reg.register(Box::new(pc.clone())).unwrap();
        reg.register(Box::new(ph.clone())).unwrap();
        for (i, k) in counters.iter().enumerate() {
            pc.with_label_values(&[k]).inc_by(i as u64);
        }
        for (i, k) in hists.iter().enumerate() {
            ph.with_label_values(&[k]).observe(i as f64 / 1000.0);
        }
        let mut out = Vec::new();
        t.add(
            "prometheus",
            ms(median_ns(samples.min(5), 1, |_| {
                out.clear();
                prometheus::TextEncoder::new().encode(&reg.gather(), &mut out).unwrap();
                black_box(&out);
            })),
        );
    }

    {
        let rec = metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(&Buckets::DEFAULT_BOUNDS)
            .unwrap()
            .build_recorder();
        let handle = rec.handle();
        metrics::with_local_recorder(&rec, || {
            for (i, k) in counters.iter().enumerate() {
                metrics::counter!("counters", "kind" => k.clone()).increment(i as u64);
            }
            for (i, k) in hists.iter().enumerate() {
                metrics::histogram!("latency", "kind" => k.clone()).record(i as f64 / 1000.0);
            }
        });
        t.add(
            "metrics+exporter-prometheus",
            ms(median_ns(samples.min(3), 1, |_| {
                black_box(handle.render());
            })),
        );
    }
    println!("\n## render ({size} bytes of text; median of {samples} renders)");
    t.print("codomyrmex", Some(("measured", 0.8)));
}
