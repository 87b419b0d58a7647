//! One test per policy rule, through the public API, checking both the rendered series and
//! the self-metric that counts the event.

use codomyrmex_metrics::{
    Event, Format, Policy, PolicyError, Registry, SensitiveAction, SensitiveGuard, ValueAllowlist,
};

fn registry(policy: Policy) -> Registry {
    Registry::builder().policy(policy).build()
}

fn text(r: &Registry) -> String {
    r.render(Format::PrometheusText)
}

#[test]
fn control_characters_are_removed_and_counted() {
    let r = Registry::default();
    let f = r.counter_family("c", "h", &["path"]).unwrap();
    f.with(&["/a\n/b\r\t\u{0}"]).inc();
    assert!(text(&r).contains("c_total{path=\"/a/b\"} 1\n"));
    assert_eq!(r.self_metrics().get(Event::ControlChars), 1);
}

#[test]
fn long_values_are_cut_at_the_byte_cap_on_a_char_boundary() {
    let r = registry(Policy::default().with_max_label_value_len(5));
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.with(&["abcdé"]).inc(); // 6 bytes: é would be split
    assert!(text(&r).contains("c_total{k=\"abcd\"} 1\n"));
    assert_eq!(r.self_metrics().get(Event::Truncated), 1);
    let r = Registry::default();
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.with(&[&"x".repeat(1000)]).inc();
    assert!(text(&r).contains(&format!("c_total{{k=\"{}\"}} 1\n", "x".repeat(128))));
}

#[test]
fn values_outside_an_allowlist_become_other() {
    let p = Policy::default()
        .with_value_allowlist("method", ValueAllowlist::set(["GET", "POST"]))
        .with_metric_value_allowlist("c", "status", ValueAllowlist::pattern("[1-5][0-9]{2}").unwrap());
    let r = registry(p);
    let f = r.counter_family("c", "h", &["method", "status"]).unwrap();
    f.with(&["GET", "200"]).inc();
    f.with(&["BREW", "200"]).inc();
    f.with(&["PROPFIND", "999"]).inc();
    let t = text(&r);
    assert!(t.contains("c_total{method=\"GET\",status=\"200\"} 1\n"), "{t}");
    assert!(t.contains("c_total{method=\"other\",status=\"200\"} 1\n"), "{t}");
    assert!(t.contains("c_total{method=\"other\",status=\"other\"} 1\n"), "{t}");
    assert_eq!(r.self_metrics().get(Event::ValueNotAllowed), 3);
}

#[test]
fn keys_outside_the_metric_or_global_allowlist_are_dropped() {
    let p = Policy::default().with_global_keys(["route"]).with_metric_keys("special", ["route", "tenant"]);
    let r = registry(p);
    let c = r.counter_family("c", "h", &["route", "tenant"]).unwrap();
    c.with(&["/x", "acme"]).inc();
    let s = r.counter_family("special", "h", &["route", "tenant"]).unwrap();
    s.with(&["/x", "acme"]).inc();
    let t = text(&r);
    assert!(t.contains("c_total{route=\"/x\"} 1\n"), "{t}");
    assert!(t.contains("special_total{route=\"/x\",tenant=\"acme\"} 1\n"), "{t}");
    assert_eq!(r.self_metrics().get(Event::KeyNotAllowed), 1);
}

#[test]
fn sensitive_values_are_redacted_by_default() {
    let r = Registry::default();
    let f = r.counter_family("login", "h", &["user"]).unwrap();
    let cases = [
        ("bob@example.org", Event::RedactedEmail),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", Event::RedactedJwt),
        ("Bearer abcdef0123456789", Event::RedactedBearer),
        ("ghp_0123456789abcdefghij0123456789abcd", Event::RedactedApiKey),
        ("5500-0000-0000-0004", Event::RedactedCard),
    ];
    for (v, _) in cases {
        f.with(&[v]).inc();
    }
    let t = text(&r);
    assert!(t.contains("login_total{user=\"[REDACTED]\"} 5\n"), "{t}");
    for (v, event) in cases {
        assert!(!t.contains(v), "{v} leaked");
        assert_eq!(r.self_metrics().get(event), 1, "{event:?}");
    }
}

#[test]
fn ip_addresses_and_uuids_are_redacted_only_when_enabled() {
    let r = registry(Policy::default().with_redact_ip_addresses(true).with_redact_uuids(true));
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.with(&["192.168.1.20"]).inc();
    f.with(&["550e8400-e29b-41d4-a716-446655440000"]).inc();
    assert!(text(&r).contains("c_total{k=\"[REDACTED]\"} 2\n"));
    let r = Registry::default();
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.with(&["192.168.1.20"]).inc();
    assert!(text(&r).contains("c_total{k=\"192.168.1.20\"} 1\n"));
}

#[test]
fn the_drop_action_makes_the_measurement_a_noop() {
    let r = registry(Policy::default().with_sensitive_action(SensitiveAction::Drop));
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    let h = f.with(&["carol@example.com"]);
    assert!(h.is_noop());
    h.inc();
    f.inc(&["carol@example.com"]);
    assert!(!text(&r).contains("c_total{"));
    assert_eq!(r.self_metrics().get(Event::SeriesDropped), 1);
}

#[test]
fn the_hash_action_gives_stable_opaque_values() {
    let guard = SensitiveGuard::default().with_hash_key(42).with_action(SensitiveAction::Hash);
    let r = registry(Policy::default().with_sensitive_guard(guard));
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.with(&["dave@example.com"]).inc();
    f.with(&["dave@example.com"]).inc();
    f.with(&["erin@example.com"]).inc();
    let t = text(&r);
    assert!(!t.contains("example.com"));
    assert_eq!(t.matches("c_total{k=\"hash:").count(), 2, "{t}");
    assert!(t.contains("\"} 2\n"));
}

#[test]
fn sensitive_keys_are_refused_at_registration_and_dropped_from_the_facade() {
    let r = Registry::default();
    for key in ["password", "user_email", "auth_token", "Cookie", "ssn"] {
        let err = r.counter_family("c", "h", &[key]).unwrap_err();
        assert!(err.to_string().contains("sensitive"), "{err}");
    }
    let m = codomyrmex_metrics::get_metrics(codomyrmex_metrics::Backend::InMemory).unwrap();
    metrics::with_local_recorder(&m.recorder(), || {
        metrics::counter!("logins", "password" => "hunter2", "method" => "otp").increment(1);
    });
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("logins_total{method=\"otp\"} 1\n"), "{t}");
    assert!(!t.contains("hunter2"));
    assert_eq!(m.self_metrics().get(Event::SensitiveKey), 1);
}

#[test]
fn reserved_and_invalid_facade_keys_are_dropped() {
    let m = codomyrmex_metrics::get_metrics(codomyrmex_metrics::Backend::InMemory).unwrap();
    metrics::with_local_recorder(&m.recorder(), || {
        metrics::counter!("x", "__name__" => "evil", "le" => "1", "bad-key" => "v", "ok" => "1").increment(1);
    });
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("x_total{ok=\"1\"} 1\n"), "{t}");
    assert_eq!(m.self_metrics().get(Event::ReservedKey), 2);
    assert_eq!(m.self_metrics().get(Event::InvalidKey), 1);
}

#[test]
fn invalid_values_are_refused_and_counted() {
    let r = Registry::default();
    let c = r.counter("c", "h").unwrap();
    let g = r.gauge("g", "h").unwrap();
    let h = r.histogram("h", "h", codomyrmex_metrics::Buckets::default()).unwrap();
    c.inc_by_f64(-1.0);
    c.inc_by_f64(f64::NAN);
    c.inc_by_f64(f64::INFINITY);
    g.set(f64::NAN);
    h.observe(f64::NAN);
    h.observe(f64::NEG_INFINITY);
    c.inc_by_f64(0.5);
    g.set(-2.5);
    assert_eq!(c.value(), 0.5);
    assert_eq!(g.value(), -2.5);
    assert_eq!(h.snapshot().unwrap().count(), 0);
    let e = r.self_metrics();
    assert_eq!(e.get(Event::NegativeCounter), 1);
    assert_eq!(e.get(Event::NonFiniteCounter), 2);
    assert_eq!(e.get(Event::NanGauge), 1);
    assert_eq!(e.get(Event::NonFiniteObservation), 2);
    assert!(matches!(c.try_inc_by_f64(-3.0), Err(PolicyError::Value { reason: "negative_counter", .. })));
    assert!(g.try_set(f64::NAN).is_err());
    assert!(h.try_observe(f64::INFINITY).is_err());
}

#[test]
fn past_the_metric_limit_new_label_sets_share_one_overflow_series_and_totals_stay_right() {
    let r = registry(Policy::default().with_max_series_per_metric(3));
    let f = r.counter_family("c", "h", &["id"]).unwrap();
    for i in 0..10 {
        f.with(&[&i.to_string()]).inc();
    }
    f.with(&["0"]).inc(); // an admitted series keeps working
    let t = text(&r);
    assert!(t.contains("c_total{id=\"0\"} 2\n"), "{t}");
    assert!(t.contains("c_total{codomyrmex_overflow=\"true\"} 7\n"), "{t}");
    assert_eq!(f.series_count(), 3);
    assert_eq!(r.self_metrics().get(Event::OverflowMetric), 7);
    let total: f64 = (0..3).map(|i| f.with(&[&i.to_string()]).value()).sum::<f64>() + 7.0;
    assert_eq!(total, 11.0);
}

#[test]
fn past_the_global_limit_every_metric_overflows() {
    let r = registry(Policy::default().with_max_series_total(2));
    let a = r.counter_family("a", "h", &["id"]).unwrap();
    let b = r.counter_family("b", "h", &["id"]).unwrap();
    a.with(&["1"]).inc();
    a.with(&["2"]).inc();
    b.with(&["1"]).inc();
    assert!(text(&r).contains("b_total{codomyrmex_overflow=\"true\"} 1\n"));
    assert_eq!(r.self_metrics().get(Event::OverflowGlobal), 1);
    assert_eq!(r.series_count(), 2);
}

#[test]
fn try_with_reports_every_kind_of_change_without_the_value() {
    let r = registry(Policy::default().with_max_series_per_metric(1));
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    assert!(f.try_with(&["fine"]).is_ok());
    let err = f.try_with(&["x\ny"]).unwrap_err();
    assert!(matches!(err, PolicyError::ValueChanged { reason: "control_chars", .. }), "{err:?}");
    let err = f.try_with(&["frank@example.com"]).unwrap_err();
    assert!(!err.to_string().contains("frank"), "{err}");
    let err = f.try_with(&["another"]).unwrap_err();
    assert!(matches!(err, PolicyError::Overflow { .. }), "{err:?}");
    let err = f.try_with(&["a", "b"]).unwrap_err();
    assert!(matches!(err, PolicyError::Arity { expected: 1, got: 2, .. }), "{err:?}");
}

#[test]
fn label_order_never_makes_a_different_series() {
    let r = Registry::default();
    let f = r.counter_family("c", "h", &["a", "b"]).unwrap();
    f.with_pairs(&[("a", "1"), ("b", "2")]).inc();
    f.with_pairs(&[("b", "2"), ("a", "1")]).inc();
    f.with(&["1", "2"]).inc();
    assert_eq!(f.series_count(), 1);
    let m = codomyrmex_metrics::get_metrics(codomyrmex_metrics::Backend::InMemory).unwrap();
    metrics::with_local_recorder(&m.recorder(), || {
        metrics::counter!("d", "x" => "1", "y" => "2").increment(1);
        metrics::counter!("d", "y" => "2", "x" => "1").increment(1);
    });
    assert!(m.render(Format::PrometheusText).contains("d_total{x=\"1\",y=\"2\"} 2\n"));
}

#[test]
fn policy_runs_once_per_series_not_per_increment() {
    let r = Registry::default();
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    for _ in 0..100 {
        f.inc(&["a\tb"]);
    }
    assert_eq!(r.self_metrics().get(Event::ControlChars), 1);
    assert!(text(&r).contains("c_total{k=\"ab\"} 100\n"));
}

/// Past a metric's series limit, a label set never seen before goes to the overflow series
/// at the cost of a read-locked probe: the policy does not run again for it (an attacker's
/// flood of distinct values cannot make every call pay the policy and the write lock). Each
/// such call is still counted as an overflow.
#[test]
fn a_flood_past_the_limit_folds_into_overflow_without_rerunning_the_policy() {
    let r = codomyrmex_metrics::Registry::builder().policy(Policy::default().with_max_series_per_metric(10)).build();
    let f = r.counter_family("logins", "Logins.", &["user"]).unwrap();
    for i in 0..10 {
        f.inc(&[&format!("user-{i}")]);
    }
    // Each value looks like an e-mail: the guard would count a redaction each time it ran.
    for i in 0..1_000 {
        f.inc(&[&format!("someone{i}@example.com")]);
    }
    let e = r.self_metrics();
    assert_eq!(e.get(Event::OverflowMetric), 1_000, "every folded call is counted");
    assert!(e.get(Event::RedactedEmail) <= 1, "the policy ran {} times past the limit", e.get(Event::RedactedEmail));
    let text = r.render(codomyrmex_metrics::Format::PrometheusText);
    assert!(text.contains("logins_total{codomyrmex_overflow=\"true\"} 1000\n"), "{text}");
}
