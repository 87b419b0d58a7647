//! Property test: label values and help text built from hostile characters (`" \ \n \r | , :
//! # @ = { }`, control characters, non-ASCII, very long) and arbitrary numbers render into
//! expositions that the Python text and OpenMetrics parsers and `promtool` accept, and every
//! label value and number reads back as the policy says it should.

mod support;

use std::collections::BTreeMap;

use codomyrmex_metrics::{Buckets, Format, Policy, Registry, SensitiveGuard};
use proptest::prelude::*;

fn hostile_string() -> impl Strategy<Value = String> {
    let hostile = prop::sample::select(vec![
        '"', '\\', '\n', '\r', '|', ',', ':', '#', '@', '=', '{', '}', ' ', '\t', '\u{0}', '\u{7f}', '\u{85}', 'é',
        '✓', '𝄞', '中', 'a', 'Z', '0', '_', '-', '.', '/',
    ]);
    prop_oneof![
        4 => prop::collection::vec(hostile.clone(), 0..24).prop_map(|v| v.into_iter().collect()),
        1 => prop::collection::vec(hostile, 120..400).prop_map(|v| v.into_iter().collect()),
        1 => ".{0,20}",
    ]
}

fn finite_or_infinite() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => any::<f64>().prop_filter("NaN gauges are refused by policy", |v| !v.is_nan()),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.1),
        1 => -1e6f64..1e6,
    ]
}

/// What the policy does to a value with the sensitive guard off: control characters removed,
/// cut at 128 bytes on a character boundary.
fn expected_value(v: &str) -> String {
    let mut s: String = v.chars().filter(|c| !c.is_control()).collect();
    let mut cut = s.len().min(128);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

fn expected_help(h: &str) -> String {
    let s: String = h.chars().filter(|c| *c == '\n' || !c.is_control()).collect();
    s.trim().to_owned()
}

fn samples_of(parsed: &serde_json::Value, sample: &str, key: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for fam in parsed["families"].as_array().unwrap() {
        for s in fam["samples"].as_array().unwrap() {
            if s["name"] == sample {
                // A label with an empty value is not rendered: Prometheus reads both alike.
                let label = s["labels"][key].as_str().unwrap_or_default().to_owned();
                let value: f64 = s["value"].as_str().unwrap().parse().unwrap();
                out.insert(label, value);
            }
        }
    }
    out
}

fn help_of(parsed: &serde_json::Value, family: &str) -> String {
    parsed["families"].as_array().unwrap().iter().find(|f| f["name"] == family).unwrap()["help"]
        .as_str()
        .unwrap()
        .to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_exposition_parses_and_round_trips(
        cases in prop::collection::vec((hostile_string(), 1u32..1000, finite_or_infinite()), 1..40),
        help in hostile_string(),
        observations in prop::collection::vec(-1e9f64..1e9, 0..20),
    ) {
        let guard = SensitiveGuard::default().with_enabled(false);
        let r = Registry::builder().policy(Policy::default().with_sensitive_guard(guard)).build();
        let counters = r.counter_family("p", &help, &["v"]).unwrap();
        let gauges = r.gauge_family("g", "gauges", &["v"]).unwrap();
        let hist = r.histogram_family("h", "h", &["v"], Buckets::exponential(0.001, 10.0, 12).unwrap()).unwrap();
        let mut want_count: BTreeMap<String, f64> = BTreeMap::new();
        let mut want_gauge: BTreeMap<String, f64> = BTreeMap::new();
        for (value, n, g) in &cases {
            counters.with(&[value]).inc_by(u64::from(*n));
            gauges.with(&[value]).set(*g);
            *want_count.entry(expected_value(value)).or_default() += f64::from(*n);
            want_gauge.insert(expected_value(value), *g);
        }
        let first = &cases[0].0;
        for o in &observations {
            hist.with(&[first]).observe(*o);
        }

        for format in [Format::PrometheusText, Format::OpenMetrics] {
            let om = format == Format::OpenMetrics;
            let text = r.render(format);
            if let Some(res) = support::strict_parse(&text, om) {
                prop_assert!(res.is_ok(), "{format:?} refused: {:?}\n{text}", res);
            }
            if !om {
                if let Some(Err(out)) = support::promtool(&text) {
                    // Only the lint that an empty generated help text causes is expected.
                    let only_no_help = out.starts_with("exit 3")
                        && out.lines().skip(1).all(|l| l.trim().is_empty() || l.ends_with("no help text"))
                        && expected_help(&help).trim().is_empty();
                    prop_assert!(only_no_help, "promtool refused: {out}\n{text}");
                }
            }
            let Some(parsed) = support::parsed_samples(&text, om) else { continue };
            prop_assert_eq!(&samples_of(&parsed, "p_total", "v"), &want_count);
            let got_gauge = samples_of(&parsed, "g", "v");
            prop_assert_eq!(got_gauge.len(), want_gauge.len());
            for (k, v) in &want_gauge {
                let got = got_gauge[k];
                prop_assert!(got == *v, "gauge {k:?}: {got} != {v}");
            }
            prop_assert_eq!(help_of(&parsed, "p"), expected_help(&help));
            let count = samples_of(&parsed, "h_count", "v");
            let sum = samples_of(&parsed, "h_sum", "v");
            let want_sum = hist.with(&[first]).snapshot().unwrap().sum;
            if om && want_sum < 0.0 {
                // OpenMetrics forbids a negative `_sum` (and `_count` goes with it).
                prop_assert!(!sum.contains_key(&expected_value(first)));
                prop_assert!(!count.contains_key(&expected_value(first)));
            } else {
                prop_assert_eq!(sum.get(&expected_value(first)).copied().unwrap_or(0.0), want_sum);
                prop_assert_eq!(count.get(&expected_value(first)).copied().unwrap_or(0.0), observations.len() as f64);
            }
        }
    }
}
