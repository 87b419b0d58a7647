//! An operator who takes backend URLs from the environment can pin where metrics may go: a
//! host not on the allowlist is a configuration error naming the setting or variable, never
//! a connection.
#![cfg(all(feature = "pushgateway", feature = "statsd"))]

use codomyrmex_metrics::{Backend, PushgatewayConfig, StatsdConfig, ENV_ALLOWED_BACKEND_HOSTS};

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
}

#[test]
fn builders_refuse_hosts_off_the_list() {
    let allowed = ["pushgateway.monitoring.svc", "*.statsd.internal", "10.0.0.7"];
    let ok = PushgatewayConfig::builder("http://pushgateway.monitoring.svc:9091", "j").unwrap().allowed_hosts(allowed);
    ok.build().unwrap();
    let err = PushgatewayConfig::builder("http://evil.example:9091", "j")
        .unwrap()
        .allowed_hosts(allowed)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"evil.example\" is not in the allowed backend hosts"), "{err}");

    StatsdConfig::udp("a.statsd.internal:8125").allowed_hosts(allowed).build().unwrap();
    StatsdConfig::tcp("10.0.0.7:8125").allowed_hosts(allowed).build().unwrap();
    let err = StatsdConfig::udp("statsd.internal:8125").allowed_hosts(allowed).build().unwrap_err().to_string();
    assert!(err.contains("not in the allowed backend hosts"), "the pattern is for names under it: {err}");
    let err = StatsdConfig::tcp("10.0.0.8:8125").allowed_hosts(allowed).build().unwrap_err().to_string();
    assert!(err.contains("statsd address"), "{err}");
    // A Unix socket is local: no entry needed.
    StatsdConfig::unix("/run/statsd.sock").allowed_hosts(allowed).build().unwrap();
    // A malformed entry is an error of its own.
    let err = StatsdConfig::udp("127.0.0.1:8125").allowed_hosts(["http://x"]).build().unwrap_err().to_string();
    assert!(err.contains("allowed_hosts"), "{err}");
}

#[test]
fn the_environment_pins_backend_urls_from_the_environment() {
    for (backend, allowed) in [
        ("pushgateway://gw.internal:9091/job/nightly", true),
        ("pushgateway://gw.attacker.example:9091/job/nightly", false),
        ("statsd://127.0.0.1:8125", true),
        ("statsd+tcp://198.51.100.9:8125", false),
    ] {
        let vars = [("CODOMYRMEX_METRICS_BACKEND", backend), (ENV_ALLOWED_BACKEND_HOSTS, "gw.internal, 127.0.0.1")];
        match Backend::from_env_with(env(&vars)) {
            Ok(Some(_)) => assert!(allowed, "{backend} was accepted"),
            Ok(None) => panic!("no backend from {backend}"),
            Err(e) => {
                let e = e.to_string();
                assert!(!allowed, "{backend}: {e}");
                assert!(e.contains(ENV_ALLOWED_BACKEND_HOSTS) && e.contains("not in the allowed backend hosts"), "{e}");
            }
        }
    }
}
