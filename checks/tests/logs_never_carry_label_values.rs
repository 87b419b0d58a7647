//! Diagnostics go through `tracing`; a secret or redacted value never appears in them.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use codomyrmex_metrics::{get_metrics, Backend, Format, Policy, Registry, SensitiveAction};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut out = self.0.lock().unwrap();
        event.record(&mut Fields(&mut out));
        out.push('\n');
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

const SECRETS: [&str; 4] = [
    "alice@example.com",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "hunter2-password-value",
    "4111111111111111",
];

#[test]
fn policy_events_are_logged_without_their_values() {
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        for action in [SensitiveAction::Redact, SensitiveAction::Drop, SensitiveAction::Hash] {
            let r = Registry::builder()
                .policy(Policy::default().with_sensitive_action(action).with_max_series_per_metric(1))
                .build();
            let f = r.counter_family("logins", "h", &["user"]).unwrap();
            for s in SECRETS {
                f.with(&[s]).inc();
                let _ = f.try_with(&[&format!("{s}\n")]);
            }
            let _ = r.render(Format::PrometheusText);
        }
        let m = get_metrics(Backend::InMemory).unwrap();
        metrics::with_local_recorder(&m.recorder(), || {
            metrics::counter!("x.y", "password" => SECRETS[2], "user" => SECRETS[0]).increment(1);
            metrics::gauge!("x.y", "user" => SECRETS[1]).set(1.0);
        });
    });
    let logs = capture.0.lock().unwrap().clone();
    assert!(logs.contains("label policy event"), "nothing was logged: {logs}");
    for s in SECRETS {
        assert!(!logs.contains(s), "{s} leaked into the logs:\n{logs}");
    }
}
