//! Every builder's setters, applied in any order with hostile values, build the same config
//! (or fail alike), and never panic: what depends on another setting is settled in `build()`,
//! and two settings that contradict each other are an error whichever comes last. Values are
//! good four times in five (measured: 125 of 288 cases build, the rest fail alike), so both
//! outcomes are compared; with `basic_auth` and `bearer_token` last-wins, it fails at once.
#![cfg(all(feature = "prometheus", feature = "pushgateway", feature = "statsd", feature = "tls"))]

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use codomyrmex_metrics::{
    CircuitBreaker, ConfigError, Dialect, PrometheusBuilder, PrometheusConfig, PushgatewayBuilder, PushgatewayConfig,
    SecretFilePolicy, StatsdBuilder, StatsdConfig,
};
use proptest::prelude::*;

/// Mostly `None` (the setter gets a good value of its own), sometimes a hostile one.
fn value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![4 => Just(None), 1 => hostile().prop_map(Some)]
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("a-long-enough-secret-value".to_owned()),
        Just(" \\ \n \r | , : # @ = { }".to_owned()),
        Just("x".repeat(5_000)),
        Just("127.0.0.1".to_owned()),
        Just("*.internal".to_owned()),
        Just("http://u:p@127.0.0.1:3128".to_owned()),
        "[ -~]{0,24}",
        any::<String>(),
    ]
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![Just(Duration::ZERO), Just(Duration::MAX), (0u64..100_000).prop_map(Duration::from_millis)]
}

/// Applies `ops` in order; the outcome as text (the config's `Debug`, or that it failed).
fn outcome<B, C: std::fmt::Debug>(
    start: B,
    ops: &[Op<B>],
    build: impl FnOnce(B) -> Result<C, ConfigError>,
) -> Result<String, ()> {
    let mut b = start;
    for op in ops {
        b = (op.apply)(b).map_err(|_| ())?;
    }
    build(b).map(|c| format!("{c:?}")).map_err(|_| ())
}

/// One setter with its value.
struct Op<B> {
    apply: Box<dyn Fn(B) -> Result<B, ConfigError>>,
}

fn op<B>(f: impl Fn(B) -> Result<B, ConfigError> + 'static) -> Op<B> {
    Op { apply: Box::new(f) }
}

fn prometheus_ops(v: Vec<Option<String>>, d: Vec<Duration>, n: Vec<usize>) -> Vec<Op<PrometheusBuilder>> {
    let c = support::certs();
    let (cert, key, ca) = (c.join("server.crt"), c.join("server.key"), c.join("ca.crt"));
    let or = |i: usize, good: &str| v[i].clone().unwrap_or_else(|| good.to_owned());
    let [a, b, h, t] = [or(0, "a-long-password"), or(1, "a-long-bearer-token"), or(2, "metrics.internal"), or(3, "m")];
    let (d0, d1, n0, n1, n2) = (d[0], d[1], n[0], n[1], n[2]);
    vec![
        op(move |x: PrometheusBuilder| x.basic_auth("scraper", &a)),
        op(move |x: PrometheusBuilder| x.bearer_token(&b)),
        op(move |x: PrometheusBuilder| x.allowed_hosts([h.as_str()])),
        op(move |x: PrometheusBuilder| x.path(&format!("/{t}"))),
        op(move |x: PrometheusBuilder| Ok(x.header_timeout(d0).request_timeout(d1))),
        op(move |x: PrometheusBuilder| Ok(x.max_connections(n0))),
        op(move |x: PrometheusBuilder| Ok(x.max_connections_per_client(n1))),
        op(move |x: PrometheusBuilder| Ok(x.max_in_flight(n2))),
        op(move |x: PrometheusBuilder| Ok(x.tls(&cert, &key))),
        op(move |x: PrometheusBuilder| Ok(x.client_ca(&ca))),
        op(|x: PrometheusBuilder| Ok(x.allowed_client_names(["scraper.internal"]))),
        op(|x: PrometheusBuilder| Ok(x.secret_file_policy(SecretFilePolicy::Warn))),
        op(|x: PrometheusBuilder| x.allow_cidrs(["127.0.0.0/8"])),
    ]
}

fn pushgateway_ops(v: Vec<Option<String>>, d: Vec<Duration>, _n: Vec<usize>) -> Vec<Op<PushgatewayBuilder>> {
    let c = support::certs();
    let (cert, key, ca) = (c.join("client.crt"), c.join("client.key"), c.join("ca.crt"));
    let or = |i: usize, good: &str| v[i].clone().unwrap_or_else(|| good.to_owned());
    let [a, b, h, p] = [or(0, "password"), or(1, "token"), or(2, "gw.internal"), or(3, "http://127.0.0.1:3128")];
    let (d0, d1) = (d[0], d[1]);
    vec![
        op(move |x: PushgatewayBuilder| Ok(x.basic_auth("pusher", &a))),
        op(move |x: PushgatewayBuilder| Ok(x.bearer_token(&b))),
        op(move |x: PushgatewayBuilder| Ok(x.allowed_hosts([h.as_str(), "127.0.0.1"]))),
        op(move |x: PushgatewayBuilder| Ok(x.proxy(&p))),
        op(|x: PushgatewayBuilder| Ok(x.no_proxy_at_all())),
        op(|x: PushgatewayBuilder| Ok(x.no_proxy("localhost,.internal"))),
        op(|x: PushgatewayBuilder| Ok(x.proxy_credentials("proxy-user", "proxy-password"))),
        op(move |x: PushgatewayBuilder| Ok(x.interval(d0).timeout(d1))),
        op(move |x: PushgatewayBuilder| Ok(x.ca_file(&ca))),
        op(move |x: PushgatewayBuilder| Ok(x.client_cert(&cert, &key))),
        op(|x: PushgatewayBuilder| Ok(x.pin_sha256(["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]))),
        op(|x: PushgatewayBuilder| Ok(x.circuit_breaker(CircuitBreaker::new(3, Duration::from_secs(1))))),
        op(|x: PushgatewayBuilder| Ok(x.secret_file_policy(SecretFilePolicy::Warn))),
        op(|x: PushgatewayBuilder| Ok(x.allow_credentials_over_http(true))),
    ]
}

fn statsd_ops(v: Vec<Option<String>>, d: Vec<Duration>, n: Vec<usize>) -> Vec<Op<StatsdBuilder>> {
    let c = support::certs();
    let (cert, key, ca) = (c.join("client.crt"), c.join("client.key"), c.join("ca.crt"));
    let or = |i: usize, good: &str| v[i].clone().unwrap_or_else(|| good.to_owned());
    let [pre, tk, tv, h] = [or(0, "shop"), or(1, "env"), or(2, "prod"), or(3, "statsd.internal")];
    let (d0, d1, n0, n1) = (d[0], d[1], n[0], n[1]);
    vec![
        op(move |x: StatsdBuilder| x.prefix(&pre)),
        op(move |x: StatsdBuilder| x.tag(&tk, &tv)),
        op(move |x: StatsdBuilder| Ok(x.allowed_hosts([h.as_str(), "127.0.0.1"]))),
        op(move |x: StatsdBuilder| Ok(x.flush_interval(d0).connect_timeout(d1))),
        op(move |x: StatsdBuilder| Ok(x.queue_capacity(n0).send_queue_capacity(n1))),
        op(move |x: StatsdBuilder| x.max_payload(n0)),
        op(|x: StatsdBuilder| Ok(x.dialect(Dialect::DogStatsd))),
        op(move |x: StatsdBuilder| Ok(x.ca_file(&ca))),
        op(move |x: StatsdBuilder| Ok(x.client_cert(&cert, &key))),
        op(|x: StatsdBuilder| Ok(x.pin_sha256(["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]))),
        op(|x: StatsdBuilder| Ok(x.circuit_breaker(CircuitBreaker::never()))),
        op(|x: StatsdBuilder| Ok(x.server_name("localhost"))),
        op(|x: StatsdBuilder| Ok(x.secret_file_policy(SecretFilePolicy::Warn))),
    ]
}

/// Picks a subset of `all` (by `keep`) in the order `order` gives; the same subset in the
/// order of `all` is the reference.
fn check<B, C: std::fmt::Debug>(
    all: Vec<Op<B>>,
    keep: &[bool],
    order: &[usize],
    start: impl Fn() -> B,
    build: impl Fn(B) -> Result<C, ConfigError>,
) -> Result<(), TestCaseError> {
    let mut slots: Vec<Option<Op<B>>> = all.into_iter().map(Some).collect();
    let chosen: Vec<usize> = (0..slots.len()).filter(|i| keep[*i % keep.len()]).collect();
    let mut shuffled: Vec<usize> = chosen.clone();
    shuffled.sort_by_key(|i| order[*i % order.len()]);
    let ops: Vec<Op<B>> = chosen.iter().map(|i| slots[*i].take().unwrap()).collect();
    let index = |i: usize| chosen.iter().position(|c| *c == i).unwrap();
    let reference = catch_unwind(AssertUnwindSafe(|| outcome(start(), &ops, &build)));
    let permuted: Vec<&Op<B>> = shuffled.iter().map(|i| &ops[index(*i)]).collect();
    let other = catch_unwind(AssertUnwindSafe(|| {
        let mut b = start();
        for op in &permuted {
            b = match (op.apply)(b) {
                Ok(b) => b,
                Err(_) => return Err(()),
            };
        }
        build(b).map(|c| format!("{c:?}")).map_err(|_| ())
    }));
    prop_assert!(reference.is_ok() && other.is_ok(), "a builder panicked");
    let (reference, other) = (reference.unwrap(), other.unwrap());
    prop_assert_eq!(reference, other, "the order {:?} of setters {:?} changed the outcome", shuffled, chosen);
    Ok(())
}

/// Values, durations, numbers, which setters to use, and the order to use them in.
type Inputs = (Vec<Option<String>>, Vec<Duration>, Vec<usize>, Vec<bool>, Vec<usize>);

fn inputs() -> impl Strategy<Value = Inputs> {
    (
        proptest::collection::vec(value(), 4),
        proptest::collection::vec(duration(), 2),
        proptest::collection::vec(prop_oneof![Just(0usize), Just(usize::MAX), 0usize..100_000], 3),
        proptest::collection::vec(any::<bool>(), 14),
        proptest::collection::vec(any::<usize>(), 14),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn prometheus_setters_in_any_order((v, d, n, keep, order) in inputs()) {
        check(prometheus_ops(v, d, n), &keep, &order, PrometheusConfig::builder, PrometheusBuilder::build)?;
    }

    #[test]
    fn pushgateway_setters_in_any_order((v, d, n, keep, order) in inputs()) {
        let start = || PushgatewayConfig::builder("https://127.0.0.1:9091", "job").unwrap();
        check(pushgateway_ops(v, d, n), &keep, &order, start, PushgatewayBuilder::build)?;
    }

    #[test]
    fn statsd_setters_in_any_order((v, d, n, keep, order) in inputs()) {
        let start = || StatsdConfig::tls("127.0.0.1:8125");
        check(statsd_ops(v, d, n), &keep, &order, start, StatsdBuilder::build)?;
    }
}
