//! Concurrent scrapes share one render; the handler mounted in the caller's own hyper server;
//! oversized request heads are refused.
#![cfg(feature = "prometheus")]

mod support;

use std::convert::Infallible;
use std::time::Duration;

use codomyrmex_metrics::ScrapeEvent;
use codomyrmex_metrics::{
    get_metrics, Backend, Format, MetricsBuilder, Policy, PrometheusConfig, RegistryBuilder, ScrapeHandler,
};
use support::http::{get, loopback, request};

#[test]
fn concurrent_scrapes_share_a_render_instead_of_multiplying_it() {
    let (listener, addr) = loopback();
    let config = PrometheusConfig::builder()
        .listener(listener)
        .client_rate_limit(1000, 1000)
        .max_in_flight(64)
        .max_connections_per_client(16)
        .build()
        .unwrap();
    let m = wide_metrics(Backend::Prometheus(config));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16).map(|_| s.spawn(move || get(addr, "/metrics").status)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let events = m.self_metrics();
    let (rendered, shared) = (events.get(ScrapeEvent::Rendered), events.get(ScrapeEvent::RenderShared));
    assert_eq!(rendered + shared, 16);
    assert!(rendered < 16 && shared > 0, "rendered {rendered}, shared {shared}");
    m.shutdown().unwrap();
}

#[test]
fn the_handler_mounts_in_the_callers_own_hyper_server() {
    let m = get_metrics(Backend::InMemory).unwrap();
    m.counter("mounted_hits", "Hits.").unwrap().inc_by(3);
    let config = PrometheusConfig::builder().bearer_token("mounted-token-0123456").unwrap().build().unwrap();
    let handler = ScrapeHandler::new(m.registry().clone(), &config);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (listener, addr) = loopback();
    listener.set_nonblocking(true).unwrap();
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move {
                        if req.uri().path() == "/app" {
                            let mut r =
                                hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(b"app")));
                            *r.status_mut() = hyper::StatusCode::OK;
                            return Ok::<_, Infallible>(r);
                        }
                        Ok(handler.handle(req, Some(peer.ip())).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    assert_eq!(get(addr, "/app").text(), "app");
    assert_eq!(get(addr, "/metrics").status, 401);
    let r = request(addr, "GET", "/metrics", &[("Authorization", "Bearer mounted-token-0123456")]);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("mounted_hits_total 3\n"));
    assert!(m.render(Format::PrometheusText).contains("codomyrmex_metrics_scrapes_total{reason=\"unauthorized\"} 1\n"));
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn an_oversized_request_head_is_refused() {
    let (listener, addr) = loopback();
    let m = get_metrics(Backend::Prometheus(PrometheusConfig::builder().listener(listener).build().unwrap())).unwrap();
    let huge = "x".repeat(64 * 1024);
    let r = request(addr, "GET", "/metrics", &[("X-Huge", &huge)]);
    assert_ne!(r.status, 200, "a 64 KiB header was accepted");
    assert!(!r.text().contains("codomyrmex_metrics"));
    assert_eq!(get(addr, "/metrics").status, 200);
    m.shutdown().unwrap();
}

fn wide_metrics(backend: Backend) -> codomyrmex_metrics::Metrics {
    let m = MetricsBuilder::new(backend)
        .registry(
            RegistryBuilder::default()
                .policy(Policy::default().with_max_series_per_metric(200_000).with_max_series_total(200_000)),
        )
        .build()
        .unwrap();
    let f = m.counter_family("wide", "Many series.", &["id"]).unwrap();
    for i in 0..150_000 {
        f.inc(&[&i.to_string()]);
    }
    m
}

#[test]
fn past_the_in_flight_limit_a_scrape_gets_503() {
    let m = wide_metrics(Backend::InMemory);
    let config = PrometheusConfig::builder().max_in_flight(1).build().unwrap();
    let handler = ScrapeHandler::new(m.registry().clone(), &config);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let req = || hyper::Request::get("/metrics").body(()).unwrap();
    let (first, second) = rt.block_on(async { tokio::join!(handler.handle(req(), None), handler.handle(req(), None)) });
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers().get("retry-after").unwrap(), "1");
    assert_eq!(m.self_metrics().get(ScrapeEvent::Overloaded), 1);
}

#[test]
fn a_request_that_takes_too_long_gets_503() {
    let (listener, addr) = loopback();
    let config =
        PrometheusConfig::builder().listener(listener).request_timeout(Duration::from_millis(10)).build().unwrap();
    let m = wide_metrics(Backend::Prometheus(config));
    let r = get(addr, "/metrics");
    assert_eq!((r.status, r.text().as_str()), (503, "request timed out\n"));
    assert_eq!(m.self_metrics().get(ScrapeEvent::Timeout), 1);
    m.shutdown().unwrap();
}
