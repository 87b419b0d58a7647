//! docs/policy.md states every default; this keeps it in step with the code.

mod support;

use codomyrmex_metrics::policy::sensitive::DEFAULT_SENSITIVE_KEYS;
use codomyrmex_metrics::policy::{cardinality, validate, DEFAULT_MAX_LABEL_VALUE_LEN};
use codomyrmex_metrics::{Policy, DEFAULT_MAX_FAMILIES, MAX_BUCKETS, MAX_HELP_LEN, MAX_LABEL_KEYS};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/policy.md")).unwrap()
}

/// The table row that mentions `needle`.
fn row(needle: &str) -> String {
    doc()
        .lines()
        .find(|l| l.starts_with('|') && l.contains(needle))
        .unwrap_or_else(|| panic!("no row for {needle}"))
        .to_owned()
}

#[test]
fn every_numeric_default_matches_the_code() {
    let p = Policy::default();
    assert_eq!(p.max_label_value_len(), DEFAULT_MAX_LABEL_VALUE_LEN);
    assert!(row("with_max_label_value_len").contains(&format!("{DEFAULT_MAX_LABEL_VALUE_LEN} bytes")));
    assert_eq!(p.series_limit("any"), cardinality::DEFAULT_MAX_SERIES_PER_METRIC);
    assert!(row("with_max_series_per_metric").contains(&format!("| {} |", cardinality::DEFAULT_MAX_SERIES_PER_METRIC)));
    assert_eq!(p.max_series_total(), cardinality::DEFAULT_MAX_SERIES_TOTAL);
    assert!(row("with_max_series_total").contains(&format!("| {} |", cardinality::DEFAULT_MAX_SERIES_TOTAL)));
    assert!(row("max_families").contains(&format!("| {DEFAULT_MAX_FAMILIES} |")));
    assert!(row("Label keys one metric may declare").contains(&format!("| {MAX_LABEL_KEYS} |")));
    assert!(row("Help text").contains(&format!("{MAX_HELP_LEN} bytes")));
    assert!(row("Histogram bucket bounds").contains(&format!("at most {MAX_BUCKETS}")));
    assert!(row("Metric names match").contains(&format!("at most {} bytes", validate::MAX_NAME_LEN)));
}

#[test]
fn every_switch_default_matches_the_code() {
    let p = Policy::default();
    let g = p.sensitive_guard();
    assert!(g.enabled && row("Label values that look like").contains("| on; action redact"));
    assert_eq!(g.action, codomyrmex_metrics::SensitiveAction::Redact);
    assert!(!g.detect_ip && row("with_redact_ip_addresses").contains("| off |"));
    assert!(!g.detect_uuid && row("with_redact_uuids").contains("| off |"));
    assert!(p.rejects_invalid_values() && row("with_reject_invalid_values").contains("| on |"));
}

#[test]
fn every_sensitive_key_word_is_listed() {
    let r = row("Label keys naming secrets");
    for k in DEFAULT_SENSITIVE_KEYS {
        assert!(r.contains(&format!(" {k},")) || r.contains(&format!(" {k}.")), "{k} missing from docs/policy.md");
    }
}

#[test]
fn every_self_metric_reason_is_listed() {
    for (family, reason) in support::self_metric_reasons() {
        let r = row(&format!("`{family}_total`"));
        assert!(r.contains(reason), "{family}: {reason} missing");
    }
}
