//! Differential test: the same `metrics` facade calls recorded into this crate and into
//! metrics-exporter-prometheus 0.18 give the same samples, read by the Python text parser.
//! Inputs stay where the reference is not lossy: valid label keys, values without control
//! characters or secrets, series within the limits, and no backslash in label values (the
//! reference reads `\\` as one already-escaped backslash and drops a `\` before `"`, so two
//! different values render the same; this crate's backslash escaping is checked against the
//! real parsers in `hostile_values_round_trip_through_real_parsers.rs`).

mod support;

use std::collections::BTreeMap;

use codomyrmex_metrics::{get_metrics, Backend, Buckets, Format};
use metrics_exporter_prometheus::PrometheusBuilder;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Counter(&'static str, String, u64),
    Absolute(&'static str, String, u64),
    GaugeSet(&'static str, String, f64),
    GaugeAdd(&'static str, String, f64),
    Observe(&'static str, String, f64),
}

fn label_value() -> impl Strategy<Value = String> {
    let chars =
        prop::sample::select(vec!['a', 'b', 'Z', '0', ' ', '"', '/', ':', ',', '=', '{', '}', '#', '|', 'é', '✓']);
    prop::collection::vec(chars, 0..8).prop_map(|v| v.into_iter().collect())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (label_value(), 0u64..1000).prop_map(|(l, n)| Op::Counter("requests_total", l, n)),
        (label_value(), 0u64..1000).prop_map(|(l, n)| Op::Absolute("bytes_total", l, n)),
        (label_value(), -1e6f64..1e6).prop_map(|(l, v)| Op::GaugeSet("queue_depth", l, v)),
        (label_value(), -100f64..100.0).prop_map(|(l, v)| Op::GaugeAdd("temperature", l, v)),
        (label_value(), 0f64..20.0).prop_map(|(l, v)| Op::Observe("latency_seconds", l, v)),
    ]
}

fn apply(ops: &[Op]) {
    for op in ops {
        match op {
            Op::Counter(n, l, v) => metrics::counter!(*n, "route" => l.clone(), "kind" => "x").increment(*v),
            Op::Absolute(n, l, v) => metrics::counter!(*n, "route" => l.clone()).absolute(*v),
            Op::GaugeSet(n, l, v) => metrics::gauge!(*n, "route" => l.clone()).set(*v),
            Op::GaugeAdd(n, l, v) => metrics::gauge!(*n, "route" => l.clone()).increment(*v),
            Op::Observe(n, l, v) => metrics::histogram!(*n, "route" => l.clone()).record(*v),
        }
    }
}

/// (sample name, sorted labels with `le` normalized) → value, without self-metrics.
type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

fn samples(text: &str) -> Option<Samples> {
    let parsed = support::parsed_samples(text, false)?;
    let mut out = BTreeMap::new();
    for fam in parsed["families"].as_array().unwrap() {
        for s in fam["samples"].as_array().unwrap() {
            let name = s["name"].as_str().unwrap().to_owned();
            if name.starts_with("codomyrmex_") {
                continue;
            }
            let mut labels: Vec<(String, String)> = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().unwrap();
                    let v = if k == "le" { v.parse::<f64>().unwrap().to_string() } else { v.to_owned() };
                    (k.clone(), v)
                })
                // Prometheus reads a label with an empty value as no label; we do not render it.
                .filter(|(_, v)| !v.is_empty())
                .collect();
            labels.sort();
            out.insert((name, labels), s["value"].as_str().unwrap().parse::<f64>().unwrap());
        }
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn same_calls_same_samples(ops in prop::collection::vec(op(), 1..60)) {
        let ours = get_metrics(Backend::InMemory).unwrap();
        metrics::with_local_recorder(&ours.recorder(), || apply(&ops));
        let reference = PrometheusBuilder::new().set_buckets(&Buckets::DEFAULT_BOUNDS).unwrap().build_recorder();
        let handle = reference.handle();
        metrics::with_local_recorder(&reference, || apply(&ops));

        let ours_text = ours.render(Format::PrometheusText);
        let Some(a) = samples(&ours_text) else { return Ok(()) };
        let b = samples(&handle.render()).unwrap();
        // The reference names a counter as called; this crate appends `_total` only when missing.
        prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "{}", ours_text);
        for (k, va) in &a {
            let vb = b[k];
            let close = (va - vb).abs() <= 1e-9 * va.abs().max(vb.abs()).max(1.0);
            prop_assert!(close, "{k:?}: ours {va} reference {vb}");
        }
    }
}
