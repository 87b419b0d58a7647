//! docs/alerts.yml: `promtool check rules` accepts it, `promtool test rules` passes its unit
//! tests (checks/tests/alerts_test.yml), every alert is tested firing, and every self-metric and
//! reason the rules name is one the crate really exports.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

#[allow(unused_imports)]
use codomyrmex_metrics::{Format, Registry};

/// The repository root (this crate is `checks/` in it).
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn promtool(args: &[&str]) -> Option<String> {
    if !support::tool("promtool", "--version") {
        return None;
    }
    let out = Command::new("promtool").args(args).current_dir(root()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    Some(text)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

#[test]
fn promtool_checks_the_rules_and_passes_their_unit_tests() {
    if let Some(out) = promtool(&["check", "rules", "docs/alerts.yml"]) {
        assert!(out.contains("SUCCESS: 16 rules found"), "{out}");
    }
    if let Some(out) = promtool(&["test", "rules", "checks/tests/alerts_test.yml"]) {
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

#[test]
fn every_alert_has_a_test_that_makes_it_fire() {
    let alerts: BTreeSet<String> =
        read("docs/alerts.yml").lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).map(str::to_owned).collect();
    assert_eq!(alerts.len(), 16);
    let tests = read("checks/tests/alerts_test.yml");
    let fired: BTreeSet<String> = tests
        .split("- eval_time:")
        .filter(|check| check.contains("exp_labels"))
        .filter_map(|check| check.lines().find_map(|l| l.trim().strip_prefix("alertname: ")))
        .map(str::to_owned)
        .collect();
    assert_eq!(alerts, fired, "every alert needs a firing test");
}

/// The rules name every backend's families: checked where every backend is compiled in.
#[cfg(all(feature = "prometheus", feature = "pushgateway", feature = "statsd"))]
#[test]
fn the_rules_name_only_self_metrics_and_reasons_the_crate_exports() {
    let rules = read("docs/alerts.yml");
    let exposition = Registry::default().render(Format::PrometheusText);
    let exprs: Vec<&str> = rules.lines().filter(|l| l.contains("codomyrmex_metrics_")).collect();
    let mut checked = 0;
    for expr in exprs.iter().filter(|l| !l.trim_start().starts_with('#')) {
        let mut rest = *expr;
        while let Some(at) = rest.find("codomyrmex_metrics_") {
            let name: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            rest = &rest[at + name.len()..];
            let family = name.trim_end_matches("_total");
            // A backend's families are exposed only when it runs: they are known from the events.
            let reasons = support::self_metric_reasons();
            let from_events = reasons.iter().any(|(f, _)| format!("{f}_total") == name);
            let scrape_histogram = name.starts_with("codomyrmex_metrics_scrape_duration_seconds");
            assert!(
                from_events
                    || scrape_histogram
                    || exposition.contains(&format!("\n{name}{{"))
                    || exposition.contains(&format!("\n{name} ")),
                "{name} is not in the crate's exposition"
            );
            // The reasons a matcher right after the name uses must exist for that family.
            if let Some(matcher) = rest.strip_prefix('{').and_then(|m| m.split('}').next()) {
                if let Some(values) = matcher.strip_prefix("reason").map(|m| m.trim_start_matches(['=', '~', '!'])) {
                    for reason in values.trim_matches('"').split('|') {
                        assert!(
                            reasons.iter().any(|(f, r)| f == family && *r == reason),
                            "{family} has no reason {reason:?}"
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} self-metric references found");
}
