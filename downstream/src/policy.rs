//! Every policy rule of docs/policy.md, through the typed API, with hostile and realistic
//! values. Expected outputs are exact: a value that is merged, lost or mangled fails.

use std::sync::Arc;
use std::time::Duration;

use codomyrmex_metrics::{
    Buckets, Format, ManualClock, MetricOpts, Policy, RegistrationError, Registry, SensitiveAction, ValueAllowlist,
};

use crate::support::{samples, value_of};

pub const CHECKS: &[crate::Check] = &[
    ("names and label keys are validated at registration", names_and_keys),
    ("realistic label values pass unchanged, one series each", realistic_values_pass),
    ("secrets and personal data are redacted, never exported", secrets_are_redacted),
    ("the detector corpora: no benign value redacted, 99% of secrets per kind", corpora),
    ("sensitive actions drop and hash", sensitive_actions),
    ("metric names and help text that carry secrets are refused", sensitive_names_and_help),
    ("IP addresses and UUIDs are redacted only when asked", ip_and_uuid_opt_in),
    ("hostile values render faithfully and never merge", hostile_values_render_faithfully),
    ("allowlists map keys and values", allowlists),
    ("values are cut to the byte limit on a character boundary", truncation),
    ("invalid recorded values are refused and counted", invalid_values),
    ("series limits fold into one overflow series", cardinality_limits),
    ("registry limits: families, keys, help, buckets, conflicts", registry_limits),
    ("idle series expire", idle_expiry),
];

fn render(r: &Registry) -> String {
    let text = r.render(Format::PrometheusText);
    crate::support::check_exposition(&text);
    text
}

fn names_and_keys() {
    let r = Registry::default();
    assert!(matches!(r.counter("1bad", "h"), Err(RegistrationError::InvalidName { .. })));
    assert!(matches!(r.counter("bad-name", "h"), Err(RegistrationError::InvalidName { .. })));
    assert!(matches!(r.counter("codomyrmex_x", "h"), Err(RegistrationError::ReservedName { .. })));
    for key in ["__name", "le", "quantile", "codomyrmex_x", "bad-key", "9x", ""] {
        let e = r.counter_family("keys_a", "h", &[key]).unwrap_err();
        assert!(matches!(e, RegistrationError::InvalidLabelKey { .. }), "{key}: {e}");
    }
    for key in ["password", "user_email", "Authorization", "api_key", "session_id"] {
        let e = r.counter_family("keys_b", "h", &[key]).unwrap_err();
        assert!(matches!(e, RegistrationError::SensitiveLabelKey { .. }), "{key}: {e}");
    }
    let e = r.counter_family("keys_c", "h", &["a", "a"]).unwrap_err();
    assert!(matches!(e, RegistrationError::DuplicateLabelKey { .. }), "{e}");
    for key in ["tokenizer", "author", "method", "route"] {
        r.counter_family(&format!("keys_ok_{key}"), "h", &[key]).unwrap();
    }
}

/// Ordinary values users put in labels; each must come out as given, in its own series.
pub const REALISTIC: &[&str] = &[
    "/api/v1/organizations/members/invitations",
    "/api/v2/users/{user_id}/orders/{order_id}/items",
    "/v1/projects/:project/locations/:location/instances",
    "checkout-service-7d9f8b6c5d-x2x9k",
    "payments-api-deployment-5f7b9c8d4-qwz8p",
    "kafka-consumer-group-orders-v2-prod",
    "orders.v2.payment-events.dlq",
    "ip-10-0-12-34.eu-west-1.compute.internal",
    "prod-us-east-1-eks-node-group-m5-2xlarge",
    "ghcr.io/acme/checkout-service:v1.42.0-rc.3",
    "registry.k8s.io/ingress-nginx/controller:v1.11.2",
    "3f786850e387550fdab836ed7e6dc881de23001b",
    "v2.31.0+build.20240611.abcdef1",
    "SELECT_orders_by_customer_and_status",
    "Mozilla/5.0 (X11; Linux x86_64)",
    "ERR_CONNECTION_RESET",
    "/var/lib/postgresql/16/main/pg_wal",
    "europe-west4-a",
    "n2-standard-8",
    "Grüße aus München",
    "GET",
    "200",
];

fn realistic_values_pass() {
    let r = Registry::default();
    let fam = r.counter_family("realistic", "Realistic values.", &["value"]).unwrap();
    for v in REALISTIC {
        let h = fam.try_with(&[v]).unwrap_or_else(|e| panic!("{v:?} was changed: {e}"));
        h.inc();
    }
    assert_eq!(fam.series_count(), REALISTIC.len());
    let text = render(&r);
    for v in REALISTIC {
        let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
        let line = format!("realistic_total{{value=\"{escaped}\"}}");
        assert_eq!(value_of(&text, &line), Some(1.0), "{v:?} is not its own series:\n{text}");
    }
    assert!(!text.contains("[REDACTED]"), "{text}");
}

/// Values that must never leave the process, with the self-metric reason each is counted as.
pub const SECRETS: &[(&str, &str)] = &[
    ("alice@example.com", "email"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
    ("Bearer mF_9.B5f-4.1JqM", "bearer"),
    ("Basic dXNlcjpwYXNzd29yZA==", "bearer"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "api_key"),
    ("AKIAIOSFODNN7EXAMPLE", "api_key"),
    ("ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R", "api_key"),
    ("xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", "api_key"),
    ("q7Zp9XvL2mWc8RtY4kBn6HsJ3dFg0AeU", "api_key"),
    ("4111 1111 1111 1111", "card_number"),
    ("5500-0000-0000-0004", "card_number"),
    ("378282246310005", "card_number"),
];

fn secrets_are_redacted() {
    let r = Registry::default();
    let fam = r.counter_family("secrets", "Secrets.", &["value"]).unwrap();
    for (v, _) in SECRETS {
        fam.with(&[v]).inc();
    }
    let text = render(&r);
    for (v, kind) in SECRETS {
        assert!(!text.contains(v), "{v:?} leaked:\n{text}");
        let reason = format!("codomyrmex_metrics_label_values_redacted_total{{reason=\"{kind}\"}}");
        assert!(value_of(&text, &reason).is_some_and(|n| n >= 1.0), "{kind} not counted:\n{text}");
    }
    assert_eq!(value_of(&text, "secrets_total{value=\"[REDACTED]\"}"), Some(SECRETS.len() as f64), "{text}");
    // A secret inside a longer value is found too, and so are secrets in metric names and help.
    fam.with(&["user=alice@example.com;route=/x"]).inc();
    assert!(!render(&r).contains("alice@"));
}

/// `kind<TAB>value` lines of a corpus in checks/tests/data.
fn corpus(text: &str) -> Vec<(&str, &str)> {
    text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).filter_map(|l| l.split_once('\t')).collect()
}

fn corpora() {
    let benign = corpus(include_str!("../../checks/tests/data/benign_label_values.tsv"));
    let secrets = corpus(include_str!("../../checks/tests/data/secret_label_values.tsv"));
    assert!(benign.len() >= 2_000 && secrets.len() >= 500);
    let policy = Policy::default().with_max_series_per_metric(100_000).with_max_label_value_len(512);
    let r = Registry::builder().policy(policy).build();
    let fam = r.counter_family("benign", "Benign values.", &["v"]).unwrap();
    let changed: Vec<&str> = benign.iter().filter(|(_, v)| fam.try_with(&[v]).is_err()).map(|(_, v)| *v).collect();
    assert!(changed.is_empty(), "benign values changed by the policy: {changed:?}");
    let fam = r.counter_family("secret", "Secret values.", &["v"]).unwrap();
    let mut kinds: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (kind, v) in &secrets {
        let entry = kinds.entry(kind).or_default();
        entry.0 += 1;
        if fam.try_with(&[v]).is_ok() {
            entry.1 += 1;
        }
    }
    for (kind, (n, missed)) in kinds {
        assert!(missed * 100 <= n, "{kind}: {missed} of {n} secrets passed the guard");
    }
}

fn sensitive_names_and_help() {
    let r = Registry::default();
    let token = "q7Zp9XvL2mWc8RtY4kBn6HsJ3dFg0AeU";
    let e = r.counter(&format!("logins_{token}"), "Logins.").unwrap_err();
    assert!(matches!(e, RegistrationError::SensitiveName { .. }), "{e}");
    assert!(!e.to_string().contains(token), "{e}");
    let e = r.counter("logins", "Ask alice@example.com about these.").unwrap_err();
    assert!(matches!(e, RegistrationError::SensitiveHelp { .. }), "{e}");
    assert!(!e.to_string().contains("alice@"), "{e}");
    let _ = r.counter("logins_by_route", "Logins, by /api/v1/organizations/members route.").unwrap();
}

fn sensitive_actions() {
    let drop = Registry::builder().policy(Policy::default().with_sensitive_action(SensitiveAction::Drop)).build();
    let fam = drop.counter_family("dropped", "h", &["user"]).unwrap();
    assert!(fam.with(&["bob@example.org"]).is_noop());
    assert_eq!(fam.series_count(), 0);
    let hash = Registry::builder().policy(Policy::default().with_sensitive_action(SensitiveAction::Hash)).build();
    let fam = hash.counter_family("hashed", "h", &["user"]).unwrap();
    fam.with(&["bob@example.org"]).inc();
    fam.with(&["bob@example.org"]).inc();
    fam.with(&["eve@example.org"]).inc();
    let text = render(&hash);
    assert!(!text.contains("example.org"), "{text}");
    let hashed: Vec<&str> = samples(&text).into_iter().filter(|l| l.starts_with("hashed_total")).collect();
    assert_eq!(hashed.len(), 2, "{text}");
    assert!(hashed.iter().all(|l| l.contains("user=\"hash:")), "{text}");
}

fn ip_and_uuid_opt_in() {
    let plain = Registry::default();
    let fam = plain.counter_family("addr", "h", &["a"]).unwrap();
    assert!(fam.try_with(&["10.1.2.3"]).is_ok());
    assert!(fam.try_with(&["123e4567-e89b-12d3-a456-426614174000"]).is_ok());
    let strict =
        Registry::builder().policy(Policy::default().with_redact_ip_addresses(true).with_redact_uuids(true)).build();
    let fam = strict.counter_family("addr", "h", &["a"]).unwrap();
    for v in ["10.1.2.3", "2001:db8::1", "123e4567-e89b-12d3-a456-426614174000"] {
        fam.with(&[v]).inc();
    }
    let text = render(&strict);
    assert_eq!(value_of(&text, "addr_total{a=\"[REDACTED]\"}"), Some(3.0), "{text}");
}

fn hostile_values_render_faithfully() {
    let long = "x".repeat(10_000);
    let hostile: Vec<String> = vec![
        "\"".into(),
        "\\".into(),
        "\\\"".into(),
        "a\"} 1\nevil_total 2\n#".into(),
        " | , : # @ = { } ".into(),
        "tab\there".into(),
        "\r\n".into(),
        "ünïcødé ✓ 日本語".into(),
        "\u{202e}rtl".into(),
        "{}".into(),
        "a=b,c=d".into(),
        long,
    ];
    let r = Registry::default();
    let fam = r.counter_family("hostile", "Hostile values.", &["v"]).unwrap();
    for v in &hostile {
        fam.with(&[v.as_str()]).inc();
    }
    let text = render(&r);
    assert!(!text.lines().any(|l| l.starts_with("evil_total")), "{text}");
    assert_eq!(value_of(&text, "hostile_total{v=\"tabhere\"}"), Some(1.0), "control characters are removed:\n{text}");
    // `\r\n` loses its control characters and becomes empty, the same as no value;
    // every other value stays a series of its own.
    let lines: Vec<&str> = samples(&text).into_iter().filter(|l| l.starts_with("hostile_total")).collect();
    assert_eq!(lines.len(), hostile.len(), "{text}");
    assert!(lines.iter().all(|l| l.len() < 200), "long values are cut");
}

fn allowlists() {
    let policy = Policy::default()
        .with_value_allowlist("method", ValueAllowlist::set(["GET", "POST"]))
        .with_metric_keys("allowed", ["method"]);
    let r = Registry::builder().policy(policy).build();
    let fam = r.counter_family("allowed", "h", &["method", "route"]).unwrap();
    fam.with(&["GET", "/a"]).inc();
    fam.with(&["BREW", "/b"]).inc();
    let text = render(&r);
    assert_eq!(value_of(&text, "allowed_total{method=\"GET\"}"), Some(1.0), "{text}");
    assert_eq!(value_of(&text, "allowed_total{method=\"other\"}"), Some(1.0), "{text}");
}

fn truncation() {
    let r = Registry::default();
    let fam = r.counter_family("cut", "h", &["v"]).unwrap();
    let value = format!("{}é", "a".repeat(127)); // 129 bytes; the cut falls inside `é`
    fam.with(&[&value]).inc();
    let text = render(&r);
    let want = format!("cut_total{{v=\"{}\"}}", "a".repeat(127));
    assert_eq!(value_of(&text, &want), Some(1.0), "{text}");
    let r = Registry::builder().policy(Policy::default().with_max_label_value_len(4)).build();
    let fam = r.counter_family("cut", "h", &["v"]).unwrap();
    fam.with(&["abcdefgh"]).inc();
    assert_eq!(value_of(&render(&r), "cut_total{v=\"abcd\"}"), Some(1.0));
}

fn invalid_values() {
    let r = Registry::default();
    let c = r.counter("c", "h").unwrap();
    c.inc_by_f64(-1.0);
    c.inc_by_f64(f64::NAN);
    c.inc_by_f64(f64::INFINITY);
    assert_eq!(c.value(), 0.0);
    let g = r.gauge("g", "h").unwrap();
    g.set(2.0);
    g.set(f64::NAN);
    assert_eq!(g.value(), 2.0);
    let h = r.histogram("h", "h", Buckets::new([1.0]).unwrap()).unwrap();
    h.observe(f64::NAN);
    h.observe(0.5);
    let text = render(&r);
    assert_eq!(value_of(&text, "h_count"), Some(1.0), "{text}");
    for reason in ["negative_counter", "non_finite_counter", "nan_gauge", "non_finite_observation"] {
        let line = format!("codomyrmex_metrics_values_rejected_total{{reason=\"{reason}\"}}");
        assert!(value_of(&text, &line).is_some_and(|n| n >= 1.0), "{reason}:\n{text}");
    }
}

fn cardinality_limits() {
    let r =
        Registry::builder().policy(Policy::default().with_max_series_per_metric(3).with_max_series_total(5)).build();
    let a = r.counter_family("a", "h", &["k"]).unwrap();
    for i in 0..10 {
        a.with(&[&format!("v{i}")]).inc();
    }
    let b = r.counter_family("b", "h", &["k"]).unwrap();
    for i in 0..10 {
        b.with(&[&format!("v{i}")]).inc();
    }
    let text = render(&r);
    assert_eq!(value_of(&text, "a_total{codomyrmex_overflow=\"true\"}"), Some(7.0), "{text}");
    assert_eq!(value_of(&text, "b_total{codomyrmex_overflow=\"true\"}"), Some(8.0), "{text}");
    assert_eq!(r.series_count(), 5);
}

fn registry_limits() {
    let r = Registry::builder().max_families(2).build();
    let _ = r.counter("one", "h").unwrap();
    let _ = r.counter("two", "h").unwrap();
    assert!(matches!(r.counter("three", "h"), Err(RegistrationError::TooManyFamilies { .. })));
    let r = Registry::default();
    let keys: Vec<String> = (0..17).map(|i| format!("k{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert!(r.counter_family("many_keys", "h", &keys).is_err());
    r.counter("helped", "  line one\nline \u{7} two\\  ").unwrap().inc();
    let text = render(&r);
    assert!(text.contains("# HELP helped_total line one\\nline  two\\\\\n"), "{text}");
    assert!(Buckets::new([2.0, 1.0]).is_err());
    assert!(Buckets::new([f64::NAN]).is_err());
    assert!(Buckets::new(Vec::<f64>::new()).is_err());
    let _ = r.counter("dup", "h").unwrap();
    assert!(matches!(r.gauge("dup", "h"), Err(RegistrationError::Conflict { .. })));
    assert!(matches!(r.counter("dup", "other help"), Err(RegistrationError::Conflict { .. })));
    assert!(r.counter("dup", "h").is_ok(), "the same registration again returns the metric");
    let _ = r.gauge("x_total", "h").unwrap();
    assert!(matches!(r.counter("x", "h"), Err(RegistrationError::NameClash { .. })));
    let _ = r.register_counter(MetricOpts::new("unit_ok", "h").unit(codomyrmex_metrics::Unit::SECONDS)).unwrap();
}

fn idle_expiry() {
    let clock = Arc::new(ManualClock::default());
    let r = Registry::builder().idle_timeout(Duration::from_secs(60)).clock(clock.clone()).build();
    let fam = r.counter_family("idle", "h", &["k"]).unwrap();
    fam.with(&["a"]).inc();
    let held = fam.with(&["b"]);
    held.inc();
    assert_eq!(r.run_upkeep(), 0, "upkeep notes each value; idle time counts from there");
    clock.advance(Duration::from_secs(120));
    assert_eq!(r.run_upkeep(), 1);
    assert_eq!(fam.series_count(), 1);
    held.inc();
    assert_eq!(held.value(), 2.0);
}
