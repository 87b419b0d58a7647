//! StatsD backends from URLs and environment variables: every scheme, every variable, and a
//! clear error naming the variable or the URL form for anything wrong.
#![cfg(feature = "statsd")]

use std::collections::HashMap;

use codomyrmex_metrics::{Backend, StatsdConfig, StatsdTransport};

fn parse(url: &str, env: &[(&str, &str)]) -> Result<StatsdConfig, String> {
    let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    match Backend::from_url_with(url, &|k| env.get(k).cloned()) {
        Ok(Backend::Statsd(c)) => Ok(c),
        Ok(other) => Err(format!("not StatsD: {other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn every_scheme_names_its_transport() {
    let t = |u: &str| parse(u, &[]).unwrap().transport().clone();
    assert_eq!(t("statsd://127.0.0.1:9125"), StatsdTransport::Udp("127.0.0.1:9125".into()));
    assert_eq!(t("statsd+udp://localhost"), StatsdTransport::Udp("localhost:8125".into()));
    assert_eq!(t("statsd+tcp://10.0.0.1:8125"), StatsdTransport::Tcp("10.0.0.1:8125".into()));
    assert_eq!(t("statsd+unix:///run/statsd.sock"), StatsdTransport::Unix("/run/statsd.sock".into()));
    assert_eq!(t("statsd+unixgram:///run/dsd.sock"), StatsdTransport::Unixgram("/run/dsd.sock".into()));
    assert_eq!(parse("statsd://127.0.0.1:8125", &[]).unwrap().max_payload(), 1432);
    assert_eq!(parse("statsd+tcp://127.0.0.1:8125", &[]).unwrap().max_payload(), 8192);
    #[cfg(feature = "tls")]
    assert_eq!(t("statsd+tls://127.0.0.1:8126"), StatsdTransport::Tls("127.0.0.1:8126".into()));
}

#[test]
fn the_environment_sets_the_rest() {
    let c = parse(
        "statsd://127.0.0.1:8125",
        &[
            ("CODOMYRMEX_METRICS_STATSD_DIALECT", "DogStatsD"),
            ("CODOMYRMEX_METRICS_STATSD_PREFIX", "shop"),
            ("CODOMYRMEX_METRICS_STATSD_TAGS", "env=prod, region=eu"),
            ("CODOMYRMEX_METRICS_STATSD_AGGREGATE", "false"),
            ("CODOMYRMEX_METRICS_STATSD_FLUSH_INTERVAL_MS", "250"),
            ("CODOMYRMEX_METRICS_STATSD_SAMPLE_RATE", "0.5"),
            ("CODOMYRMEX_METRICS_STATSD_HISTOGRAM_AS", "distribution"),
            ("CODOMYRMEX_METRICS_STATSD_MAX_PAYLOAD", "512"),
        ],
    )
    .unwrap();
    let debug = format!("{c:?}");
    for part in [
        "DogStatsd",
        "\"shop\"",
        "(\"region\", \"eu\")",
        "aggregate: false",
        "250ms",
        "sample_rate: 0.5",
        "Distribution",
    ] {
        assert!(debug.contains(part), "{part} in {debug}");
    }
    assert_eq!(c.max_payload(), 512);
}

#[test]
fn bad_input_is_a_clear_error() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("statsd://127.0.0.1:8125?prefix=x", &[], "no user, password or query"),
        ("statsd://:8125", &[], "HOST:PORT"),
        ("statsd+unix://host/path", &[], "ABSOLUTE/PATH"),
        (
            "statsd://127.0.0.1:8125",
            &[("CODOMYRMEX_METRICS_STATSD_DIALECT", "graphite")],
            "CODOMYRMEX_METRICS_STATSD_DIALECT",
        ),
        ("statsd://127.0.0.1:8125", &[("CODOMYRMEX_METRICS_STATSD_SAMPLE_RATE", "1.5")], "(0, 1]"),
        ("statsd://127.0.0.1:8125", &[("CODOMYRMEX_METRICS_STATSD_MAX_PAYLOAD", "70000")], "65507"),
        ("statsd://127.0.0.1:8125", &[("CODOMYRMEX_METRICS_STATSD_PREFIX", "a|b")], "CODOMYRMEX_METRICS_STATSD_PREFIX"),
        ("statsd://127.0.0.1:8125", &[("CODOMYRMEX_METRICS_STATSD_TAGS", "k=v:w")], ": | @ # , ="),
        (
            "statsd://127.0.0.1:8125",
            &[("CODOMYRMEX_METRICS_STATSD_CLIENT_CERT", "/c.pem")],
            "CODOMYRMEX_METRICS_STATSD_CLIENT_KEY",
        ),
        ("statsd://127.0.0.1:8125", &[("CODOMYRMEX_METRICS_STATSD_CA_FILE", "/ca.pem")], "TLS transport"),
    ];
    for (url, env, want) in cases {
        let err = parse(url, env).unwrap_err();
        assert!(err.contains(want), "{url} {env:?}: {err}");
    }
    assert!(StatsdConfig::udp("nohost").build().is_err());
    assert!(StatsdConfig::udp("127.0.0.1:8125").sample_rate(f64::NAN).is_err());
}
