//! For the HTTP layer's tests: a keep-alive HTTP/1 client over real loopback sockets, and the
//! layer's series read back from the registry.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use codomyrmex_metrics::export::SeriesValue;
use codomyrmex_metrics::Registry;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// Labels as sorted `(key, value)` pairs.
pub type Labels = Vec<(String, String)>;

/// A keep-alive HTTP/1 connection to `addr`.
pub async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    send
}

/// Sends one request and reads the whole response: status and body.
pub async fn send(client: &mut SendRequest<Full<Bytes>>, method: &str, path: &str, body: &[u8]) -> (u16, Bytes) {
    client.ready().await.expect("connection ready");
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "test")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    let res = client.send_request(req).await.expect("response");
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, body)
}

/// Every counter or gauge series of `name`, by sorted labels.
pub fn values(registry: &Registry, name: &str) -> BTreeMap<Labels, f64> {
    let mut out = BTreeMap::new();
    registry.for_each_series(|s| {
        if s.name() == name {
            let mut labels = s.label_pairs();
            labels.sort();
            match s.value {
                SeriesValue::Counter(v) | SeriesValue::Gauge(v) => {
                    out.insert(labels, v);
                }
                SeriesValue::Histogram(h) => {
                    out.insert(labels, h.count() as f64);
                }
                _ => {}
            }
        }
    });
    out
}

/// Histogram series of `name`: (count, sum) by sorted labels.
pub fn histograms(registry: &Registry, name: &str) -> BTreeMap<Labels, (u64, f64)> {
    let mut out = BTreeMap::new();
    registry.for_each_series(|s| {
        if let (true, SeriesValue::Histogram(h)) = (s.name() == name, s.value) {
            let mut labels = s.label_pairs();
            labels.sort();
            out.insert(labels, (h.count(), h.sum()));
        }
    });
    out
}

/// Labels from `(key, value)` literals, sorted.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    let mut l: Labels = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    l.sort();
    l
}

/// Waits (at most 10 s) until no request is in flight: a response body is recorded when the
/// server drops it, which can come just after the client has read the last byte.
pub async fn settle(registry: &Registry) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let busy: f64 = values(registry, "http_server_requests_in_flight").values().sum();
        if busy == 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "{busy} requests still in flight after 10 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
