//! An error states its cause once, with what the user needs to act on it: a scrape endpoint
//! that cannot bind says so once, and names the address (it once said "failed to start" three
//! times and never which address).
#![cfg(feature = "prometheus")]

use codomyrmex_metrics::{get_metrics, Backend, PrometheusConfig};

#[test]
fn a_bind_failure_names_the_address_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let config = PrometheusConfig::builder().listen(addr).build().unwrap();
    let err = get_metrics(Backend::Prometheus(config)).unwrap_err().to_string();
    assert_eq!(err.matches("failed to start").count(), 1, "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}
