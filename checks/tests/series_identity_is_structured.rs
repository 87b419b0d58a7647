//! A series' identity is its final label pairs, kept as data: the Prometheus encoder is the
//! only code that escapes label text, and nothing parses rendered text back into pairs.
//! Readers of the registry (`for_each_series`, the StatsD aggregate) get the pairs exactly,
//! whatever the values hold.

#[path = "support/sources.rs"]
mod sources;

use codomyrmex_metrics::{Format, Policy, Registry};
use proptest::prelude::*;
use sources::{code, rust_files, src_dir};

#[test]
fn only_the_encoder_escapes_and_nothing_parses_rendered_labels() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "the sources were not found under {}", src.display());
    let owners = [src.join("export/encode.rs"), src.join("export/escape.rs")];
    let mut offending = Vec::new();
    for file in files.iter().filter(|f| !owners.contains(f)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = code(line);
            if code.contains("escape::") || code.contains("parse_label_pairs") || code.contains("write_label_pairs") {
                offending.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offending.is_empty(), "label text is escaped or parsed outside the encoder:\n{}", offending.join("\n"));
}

/// Label values an attacker or a careless caller might send: the exposition's own syntax,
/// control characters, non-ASCII, and long runs.
fn hostile_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\\"".to_owned()),
        Just("=\"".to_owned()),
        Just("\",k=\"".to_owned()),
        Just(",".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("|#@:".to_owned()),
        Just(" ".to_owned()),
        Just("é中🦀".to_owned()),
        "[a-z0-9/_.-]{1,12}",
        "[a-z]{40,60}",
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Two label keys, hostile values: `for_each_series` returns the values as recorded (the
    /// policy leaves these alone: no control characters, short enough, no secret shape), and
    /// the exposition escapes them so that promtool-style parsing gives them back.
    #[test]
    fn pairs_come_back_exactly_as_recorded(a in hostile_value(), b in hostile_value()) {
        let r = Registry::builder().policy(Policy::default().with_max_label_value_len(4096)).build();
        let f = r.counter_family("jobs", "Jobs.", &["a", "b"]).unwrap();
        let h = f.try_with(&[&a, &b]);
        prop_assume!(h.is_ok());
        h.unwrap().inc();
        let mut seen = Vec::new();
        r.for_each_series(|s| seen.push(s.labels.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect::<Vec<_>>()));
        // Prometheus reads `k=""` as no label, so an empty value is no pair.
        let want: Vec<(String, String)> =
            [("a", &a), ("b", &b)].into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v.clone())).collect();
        prop_assert_eq!(&seen, &vec![want.clone()]);
        let esc = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let pairs: Vec<String> = want.iter().map(|(k, v)| format!("{k}=\"{}\"", esc(v))).collect();
        let line = if pairs.is_empty() { "jobs_total 1\n".to_owned() } else { format!("jobs_total{{{}}} 1\n", pairs.join(",")) };
        let text = r.render(Format::PrometheusText);
        prop_assert!(text.contains(&line), "{} not in {}", line, text);
    }
}

/// A dynamic family (the `metrics` facade's shape: keys chosen per call) keeps its pairs too,
/// and a label set the policy changes still lands in one series whatever raw spelling it had.
#[test]
fn raw_spellings_that_the_policy_maps_together_share_one_series() {
    let r = Registry::default();
    let f = r.counter_family("hits", "Hits.", &["path"]).unwrap();
    f.with(&["/a\u{7}"]).inc(); // the control character is removed: `/a`
    f.with(&["/a"]).inc();
    f.with(&["/a\u{1}"]).inc();
    assert_eq!(f.series_count(), 1);
    let mut seen = Vec::new();
    r.for_each_series(|s| {
        let pairs: Vec<(&str, &str)> = s.labels.iter().collect();
        seen.push(format!("{pairs:?}"));
    });
    assert_eq!(seen, vec![r#"[("path", "/a")]"#.to_owned()]);
    assert!(r.render(Format::PrometheusText).contains("hits_total{path=\"/a\"} 3\n"));
}
