//! Configuration from the environment: no value panics (huge, tiny, negative, not a number,
//! 10 kB, control characters), each variable in whatever order, and a misspelled
//! `CODOMYRMEX_METRICS_*` name is an error that names the variable meant.

use std::panic::{catch_unwind, AssertUnwindSafe};

use codomyrmex_metrics::{MetricsBuilder, KNOWN_ENV_VARS};
use proptest::prelude::*;

/// A backend URL that makes the variable's backend read it.
fn backend_for(var: &str) -> &'static str {
    if var.contains("_PUSH_") {
        "pushgateway://127.0.0.1:9091/job/x"
    } else if var.contains("_STATSD_") {
        "statsd://127.0.0.1:8125"
    } else if var.contains("_TLS_") {
        "prometheus+tls://127.0.0.1:9464"
    } else {
        "prometheus://127.0.0.1:9464"
    }
}

fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e300".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("0.0000000001".to_owned()),
        Just("x".repeat(10_000)),
        Just("a=b,=,,c=\u{0}d".to_owned()),
        Just("\u{202e}\n\r|#:@".to_owned()),
        "[ -~]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_environment_value_panics(var in prop::sample::select(KNOWN_ENV_VARS), value in hostile_value()) {
        let mut vars = vec![(var.to_owned(), value)];
        if var != "CODOMYRMEX_METRICS_BACKEND" {
            vars.push(("CODOMYRMEX_METRICS_BACKEND".to_owned(), backend_for(var).to_owned()));
        }
        // Ok or a typed error; a panic fails the test.
        let result = catch_unwind(AssertUnwindSafe(|| MetricsBuilder::from_env_vars(vars.clone()).map(|_| ())));
        prop_assert!(result.is_ok(), "{vars:?} panicked");
        // The same variables in the other order give the same answer.
        vars.reverse();
        let again = catch_unwind(AssertUnwindSafe(|| MetricsBuilder::from_env_vars(vars).map(|_| ())));
        prop_assert_eq!(result.unwrap().is_ok(), again.unwrap().is_ok());
    }
}

#[test]
fn a_misspelled_variable_names_the_one_meant() {
    let err = MetricsBuilder::from_env_vars([("CODOMYRMEX_METRICS_BACKEN", "memory://")]).unwrap_err().to_string();
    assert!(err.contains("did you mean CODOMYRMEX_METRICS_BACKEND?"), "{err}");
    assert!(err.contains("CODOMYRMEX_METRICS_MAX_SERIES_TOTAL"), "the accepted names are listed: {err}");
    assert!(MetricsBuilder::from_env_vars([("PATH", "/usr/bin"), ("CODOMYRMEX_METRICS_BACKEND", "memory://")]).is_ok());
}

#[cfg(feature = "pushgateway")]
#[test]
fn a_push_interval_past_what_a_duration_holds_is_an_error() {
    let vars = [
        ("CODOMYRMEX_METRICS_BACKEND", "pushgateway://127.0.0.1:9091/job/x"),
        ("CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS", "1e300"),
    ];
    let err = MetricsBuilder::from_env_vars(vars).unwrap_err().to_string();
    assert!(err.contains("CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS"), "{err}");
}
