//! The typed-label path: a label set known at compile time is resolved once, through the
//! policy, when the family is made fixed; a lookup is then an array index. Misfits are typed
//! errors at that moment, never panics on a recording.

use codomyrmex_metrics::{FixedLabels, FixedLabelsError, Format, Policy, Registry, ValueAllowlist};

#[derive(Clone, Copy, Debug)]
enum Method {
    Get,
    Post,
}

#[derive(Clone, Copy, Debug)]
enum Status {
    Ok,
    NotFound,
    Error,
}

/// A struct of two enums: 2 x 3 sets.
#[derive(Clone, Copy, Debug)]
struct Request(Method, Status);

impl FixedLabels for Request {
    const KEYS: &'static [&'static str] = &["method", "status"];
    const COUNT: usize = 6;
    fn index(self) -> usize {
        self.0 as usize * 3 + self.1 as usize
    }
    fn values(index: usize) -> Vec<&'static str> {
        vec![["GET", "POST"][index / 3], ["200", "404", "500"][index % 3]]
    }
}

#[test]
fn every_set_is_resolved_once_and_recorded_by_index() {
    let r = Registry::default();
    let fam = r.counter_family("requests", "Requests.", &["method", "status"]).unwrap();
    let fixed = fam.fixed::<Request>().unwrap();
    assert_eq!(fam.series_count(), 6, "every set exists from the start");
    fixed.get(Request(Method::Post, Status::NotFound)).inc_by(2);
    fixed.get(Request(Method::Get, Status::Ok)).inc();
    fixed.get(Request(Method::Post, Status::Error)).inc_by(5);
    let text = r.render(Format::PrometheusText);
    assert!(text.contains("requests_total{method=\"POST\",status=\"404\"} 2\n"), "{text}");
    assert!(text.contains("requests_total{method=\"GET\",status=\"200\"} 1\n"), "{text}");
    assert!(text.contains("requests_total{method=\"GET\",status=\"500\"} 0\n"), "{text}");
    assert!(text.contains("requests_total{method=\"POST\",status=\"500\"} 5\n"), "{text}");
    // The same series as the string path.
    fam.with(&["POST", "404"]).inc();
    assert!(r.render(Format::PrometheusText).contains("requests_total{method=\"POST\",status=\"404\"} 3\n"));
}

#[test]
fn the_policy_applies_when_the_family_is_made_fixed() {
    let policy = Policy::default().with_value_allowlist("status", ValueAllowlist::set(["200", "500"]));
    let r = Registry::builder().policy(policy).build();
    let fixed = r.gauge_family("inflight", "In flight.", &["method", "status"]).unwrap().fixed::<Request>().unwrap();
    fixed.get(Request(Method::Get, Status::NotFound)).set(4.0);
    let text = r.render(Format::PrometheusText);
    assert!(text.contains("inflight{method=\"GET\",status=\"other\"} 4\n"), "{text}");
}

#[test]
fn misfits_are_typed_errors() {
    let r = Registry::default();
    let other_keys = r.counter_family("a", "A.", &["verb", "status"]).unwrap().fixed::<Request>();
    assert!(matches!(other_keys, Err(FixedLabelsError::Keys { .. })), "{other_keys:?}");
    let small = Registry::builder().policy(Policy::default().with_max_series_per_metric(4)).build();
    let too_many = small.counter_family("b", "B.", &["method", "status"]).unwrap().fixed::<Request>();
    assert!(matches!(too_many, Err(FixedLabelsError::TooMany { limit: 4, count: 6, .. })), "{too_many:?}");

    #[derive(Clone, Copy)]
    struct Short;
    impl FixedLabels for Short {
        const KEYS: &'static [&'static str] = &["method", "status"];
        const COUNT: usize = 1;
        fn index(self) -> usize {
            0
        }
        fn values(_: usize) -> Vec<&'static str> {
            vec!["GET"]
        }
    }
    let short = r.counter_family("c", "C.", &["method", "status"]).unwrap().fixed::<Short>();
    let e = short.unwrap_err();
    assert!(e.to_string().contains("1 values for 2 keys"), "{e}");
}
