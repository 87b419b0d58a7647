//! The `metrics` facade macros, as a library author writes them, through the same policy.

use codomyrmex_metrics::{Format, Metrics};

use crate::support::{memory, samples, value_of};

pub const CHECKS: &[crate::Check] = &[
    ("facade counters, gauges and histograms record exact values", macros_record),
    ("facade labels pass the policy", facade_policy),
    ("facade names and help text pass the sensitive-data guard", facade_names_and_help_pass_the_guard),
    ("facade: an empty label value is the same series as no label", empty_label_is_no_label),
    ("facade: label keys are bounded like the typed API's", facade_key_bound),
    ("facade: a key given twice keeps its first value", duplicate_keys),
    ("facade: describe_* keeps help and unit", describe_keeps_units),
    ("facade: a flood of names leaves room for the application's own metrics", name_flood),
];

fn with<R>(m: &Metrics, f: impl FnOnce() -> R) -> R {
    metrics::with_local_recorder(&m.recorder(), f)
}

fn text(m: &Metrics) -> String {
    crate::support::render_checked(m)
}

fn macros_record() {
    let m = memory();
    with(&m, || {
        metrics::counter!("jobs", "queue" => "mail").increment(2);
        metrics::counter!("jobs", "queue" => "mail").increment(3);
        metrics::gauge!("depth").set(7.5);
        metrics::gauge!("depth").decrement(0.5);
        metrics::histogram!("work_seconds").record(0.25);
        metrics::histogram!("work_seconds").record(0.75);
    });
    let t = text(&m);
    assert_eq!(value_of(&t, "jobs_total{queue=\"mail\"}"), Some(5.0), "{t}");
    assert_eq!(value_of(&t, "depth"), Some(7.0), "{t}");
    assert_eq!(value_of(&t, "work_seconds_count"), Some(2.0), "{t}");
    assert_eq!(value_of(&t, "work_seconds_sum"), Some(1.0), "{t}");
}

fn facade_names_and_help_pass_the_guard() {
    let m = memory();
    with(&m, || {
        metrics::counter!("logins_bob@example.org").increment(1);
        metrics::describe_counter!("signups", "Escalate to carol@example.net.");
        metrics::counter!("signups").increment(1);
    });
    let t = text(&m);
    assert!(!t.contains("bob") && !t.contains("carol"), "{t}");
    assert_eq!(value_of(&t, "signups_total"), Some(1.0), "{t}");
    let refused = "codomyrmex_metrics_registrations_refused_total{reason=\"sensitive_name\"}";
    assert_eq!(value_of(&t, refused), Some(1.0), "{t}");
    let dropped = "codomyrmex_metrics_registrations_refused_total{reason=\"sensitive_help\"}";
    assert_eq!(value_of(&t, dropped), Some(1.0), "{t}");
}

fn facade_policy() {
    let m = memory();
    with(&m, || {
        metrics::counter!("logins", "user" => "carol@example.net").increment(1);
        metrics::counter!("logins", "password" => "hunter2").increment(1);
        metrics::counter!("bad-name.with dots").increment(1);
        metrics::counter!("routes", "route" => "/api/v1/organizations/members/invitations").increment(1);
        metrics::counter!("routes", "route" => "a\"} 1\nevil 1").increment(1);
    });
    let t = text(&m);
    assert!(!t.contains("carol@") && !t.contains("hunter2"), "{t}");
    assert_eq!(value_of(&t, "logins_total{user=\"[REDACTED]\"}"), Some(1.0), "{t}");
    assert_eq!(value_of(&t, "logins_total"), Some(1.0), "the refused key is dropped: {t}");
    assert_eq!(value_of(&t, "bad_name_with_dots_total"), Some(1.0), "{t}");
    assert_eq!(value_of(&t, "routes_total{route=\"/api/v1/organizations/members/invitations\"}"), Some(1.0), "{t}");
    assert!(!t.lines().any(|l| l.starts_with("evil")), "{t}");
}

fn empty_label_is_no_label() {
    let m = memory();
    with(&m, || {
        metrics::counter!("empties", "k" => "").increment(1);
        metrics::counter!("empties").increment(2);
        metrics::counter!("empties", "k" => "", "j" => "x").increment(4);
        metrics::counter!("empties", "j" => "x").increment(8);
    });
    let t = text(&m);
    let lines: Vec<&str> = samples(&t).into_iter().filter(|l| l.starts_with("empties_total")).collect();
    assert_eq!(lines, ["empties_total 3", "empties_total{j=\"x\"} 12"], "{t}");
}

fn facade_key_bound() {
    let m = memory();
    let labels: Vec<(String, String)> = (0..40).map(|i| (format!("k{i:02}"), "v".to_owned())).collect();
    let labels: Vec<metrics::Label> = labels.into_iter().map(|(k, v)| metrics::Label::new(k, v)).collect();
    with(&m, || metrics::counter!("wide", labels).increment(1));
    let t = text(&m);
    let line = samples(&t).into_iter().find(|l| l.starts_with("wide_total")).expect("the series exists");
    assert_eq!(line.matches("=\"v\"").count(), codomyrmex_metrics::MAX_LABEL_KEYS, "{line}");
    let dropped = "codomyrmex_metrics_label_keys_refused_total{reason=\"too_many_keys\"}";
    assert_eq!(value_of(&t, dropped), Some(24.0), "{t}");
}

fn duplicate_keys() {
    let m = memory();
    with(&m, || metrics::counter!("dups", "k" => "first", "k" => "second").increment(1));
    let t = text(&m);
    assert_eq!(value_of(&t, "dups_total{k=\"first\"}"), Some(1.0), "{t}");
}

fn describe_keeps_units() {
    let m = memory();
    with(&m, || {
        metrics::describe_histogram!("request_latency", metrics::Unit::Seconds, "Request latency.");
        metrics::describe_gauge!("queue_size", metrics::Unit::Bytes, "Bytes queued.");
        metrics::histogram!("request_latency").record(0.5);
        metrics::gauge!("queue_size").set(3.0);
    });
    let om = m.render(Format::OpenMetrics);
    assert!(om.contains("# UNIT request_latency_seconds seconds\n"), "{om}");
    assert!(om.contains("# HELP request_latency_seconds Request latency.\n"), "{om}");
    assert!(om.contains("# UNIT queue_size_bytes bytes\n"), "{om}");
}

fn name_flood() {
    let m = memory();
    with(&m, || {
        for i in 0..30_000 {
            metrics::counter!(format!("flood_{i}")).increment(1);
        }
    });
    let mine =
        m.counter("application_requests", "The application's own metric.").expect("room is kept for typed metrics");
    mine.inc();
    assert_eq!(mine.value(), 1.0);
}
