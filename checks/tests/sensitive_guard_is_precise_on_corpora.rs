//! The sensitive-data guard measured on corpora of realistic values, both ways
//! (tests/data, written by tests/data/make_corpora.py): no benign value may be redacted
//! (a false positive silently merges a user's series), and every kind of secret must be
//! found at least 99% of the time (a miss leaks it). docs/policy.md states the figures.

use std::collections::BTreeMap;

use codomyrmex_metrics::SensitiveGuard;

fn corpus(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split_once('\t').unwrap_or_else(|| panic!("no tab in {l:?}")))
        .collect()
}

const BENIGN: &str = include_str!("data/benign_label_values.tsv");
const SECRETS: &str = include_str!("data/secret_label_values.tsv");

#[test]
fn no_benign_value_is_redacted() {
    let guard = SensitiveGuard::default();
    let rows = corpus(BENIGN);
    assert!(rows.len() >= 2000, "the benign corpus has {} values", rows.len());
    let flagged: Vec<String> = rows
        .iter()
        .filter_map(|(kind, v)| guard.detect(v).map(|k| format!("{kind}: {v:?} taken for {}", k.as_str())))
        .collect();
    println!("benign corpus: {} values, {} false positives", rows.len(), flagged.len());
    assert!(flagged.is_empty(), "false positives:\n{}", flagged.join("\n"));
}

#[test]
fn secrets_are_found_per_kind() {
    let guard = SensitiveGuard::default();
    let rows = corpus(SECRETS);
    assert!(rows.len() >= 500, "the secret corpus has {} values", rows.len());
    let mut by_kind: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
    for (kind, v) in &rows {
        let entry = by_kind.entry(kind).or_default();
        entry.0 += 1;
        if guard.detect(v).is_none() {
            entry.1.push(v);
        }
    }
    let mut failures = Vec::new();
    for (kind, (n, missed)) in &by_kind {
        let recall = 1.0 - missed.len() as f64 / *n as f64;
        println!("{kind:>16}: {n:>4} values, recall {:.1}%", recall * 100.0);
        if recall < 0.99 {
            failures.push(format!("{kind}: recall {:.1}%, missed {missed:?}", recall * 100.0));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_guard_runs_in_the_typed_api_too() {
    // The same corpora through a registry: benign values stay their own series, secrets never
    // render. The length cap is raised so that no two values are merged by being cut.
    let registry = codomyrmex_metrics::Registry::builder()
        .policy(codomyrmex_metrics::Policy::default().with_max_series_per_metric(100_000).with_max_label_value_len(512))
        .build();
    let fam = registry.counter_family("corpus", "Corpus values.", &["v"]).unwrap();
    let benign = corpus(BENIGN);
    for (_, v) in &benign {
        fam.with(&[v]).inc();
    }
    assert_eq!(fam.series_count(), benign.len());
    let secrets = corpus(SECRETS);
    let fam = registry.counter_family("secrets", "Secret values.", &["v"]).unwrap();
    for (_, v) in &secrets {
        fam.with(&[v]).inc();
    }
    let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
    let leaked: Vec<&&str> = secrets.iter().map(|(_, v)| v).filter(|v| v.len() > 12 && text.contains(**v)).collect();
    assert!(leaked.len() * 100 <= secrets.len(), "{} secrets rendered: {leaked:?}", leaked.len());
}

#[test]
fn the_guard_sees_a_value_before_it_is_cut() {
    let registry = codomyrmex_metrics::Registry::default();
    let fam = registry.counter_family("images", "Images.", &["image"]).unwrap();
    // 145 bytes: cut at 128, the digest would be 47 hex digits, which alone looks like a token.
    let image = "408422221565.dkr.ecr.us-east-1.amazonaws.com/initech/metrics-shipment-job@sha256:\
                 f60b84cf097e87ff6549622b00d03e3bdb68d2af961b26ffd67aba9aea3f634f";
    fam.with(&[image]).inc();
    // A token that starts before the cut and ends after it is still a token.
    let straddling = format!("{}q7Zp9XvL2mWc8RtY4kBn6HsJ3dFg0AeU", "a/".repeat(60));
    fam.with(&[&straddling]).inc();
    let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
    assert!(text.contains(&format!("images_total{{image=\"{}\"}} 1\n", &image[..128])), "{text}");
    assert!(text.contains("images_total{image=\"[REDACTED]\"} 1\n"), "{text}");
}
