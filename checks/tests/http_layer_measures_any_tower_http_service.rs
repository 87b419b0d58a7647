//! `HttpMetricsLayer` on plain tower services served by hyper (no axum): sizes as declared and
//! as sent, a streamed body timed to its end, the `error` and `cancelled` outcomes, status
//! classes, and a route classifier, with the in-flight gauge back at zero every time.
#![cfg(feature = "tower")]

mod support;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use codomyrmex_metrics::{get_metrics, Backend, HttpMetricsLayer, Metrics, StatusLabel};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use support::web::{self, labels};
use tower::{Layer, ServiceExt};

/// A body of `left` chunks of 1,000 bytes, one every 40 ms.
struct Trickle {
    left: u32,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Body for Trickle {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        std::task::ready!(self.sleep.as_mut().poll(cx));
        self.left -= 1;
        let next = tokio::time::Instant::now() + Duration::from_millis(40);
        self.sleep.as_mut().reset(next);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 1000])))))
    }
}

type Reply = Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>;

async fn handler(req: Request<Incoming>) -> Result<Reply, std::io::Error> {
    match req.uri().path() {
        "/echo" => {
            let body = req.into_body().collect().await.map_err(std::io::Error::other)?.to_bytes();
            Ok(Response::new(Full::new(body).boxed()))
        }
        "/stream" => {
            let t = Trickle { left: 3, sleep: Box::pin(tokio::time::sleep(Duration::ZERO)) };
            Ok(Response::new(t.boxed()))
        }
        "/fail" => Err(std::io::Error::other("the handler failed")),
        _ => Ok(Response::builder().status(404).body(Full::new(Bytes::from_static(b"nope")).boxed()).unwrap()),
    }
}

/// Serves `layer` around `handler` with hyper on a loopback socket.
async fn serve(layer: HttpMetricsLayer) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = layer.layer(tower::service_fn(handler));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let svc = TowerToHyperService::new(svc.clone());
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc));
        }
    });
    addr
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn memory() -> Metrics {
    get_metrics(Backend::InMemory).unwrap()
}

#[test]
fn sizes_are_declared_and_sent_bytes_and_a_stream_is_timed_to_its_end() {
    let metrics = memory();
    let layer = HttpMetricsLayer::builder().sizes(true).build(&metrics).unwrap();
    rt().block_on(async {
        let addr = serve(layer).await;
        let mut c = web::connect(addr).await;
        for n in [0usize, 10, 5000] {
            let (status, body) = web::send(&mut c, "POST", "/echo", &vec![b'a'; n]).await;
            assert_eq!((status, body.len()), (200, n));
        }
        let (status, body) = web::send(&mut c, "GET", "/stream", b"").await;
        assert_eq!((status, body.len()), (200, 3000));
        web::settle(&metrics).await;
    });
    let route = |r| labels(&[("method", "POST"), ("route", r), ("status", "200")]);
    // No classifier and no axum: every route is the fixed value.
    let requests = web::histograms(&metrics, "http_server_request_size_bytes");
    assert_eq!(requests[&route("unmatched")], (3, 5010.0));
    let responses = web::histograms(&metrics, "http_server_response_size_bytes");
    assert_eq!(responses[&route("unmatched")], (3, 5010.0));
    let get = labels(&[("method", "GET"), ("route", "unmatched"), ("status", "200")]);
    assert_eq!(responses[&get], (1, 3000.0));
    let (count, secs) = web::histograms(&metrics, "http_server_request_duration_seconds")[&get];
    assert_eq!(count, 1);
    assert!(secs >= 0.08, "three chunks 40 ms apart took {secs} s: the duration must run to the body's end");
}

#[test]
fn a_service_error_is_counted_as_error_and_a_dropped_request_as_cancelled() {
    let metrics = memory();
    let layer = HttpMetricsLayer::new(&metrics).unwrap();
    rt().block_on(async {
        let addr = serve(layer.clone()).await;
        let mut c = web::connect(addr).await;
        // hyper closes the connection when the service fails: the client sees no response.
        c.ready().await.unwrap();
        let req = Request::get("/fail").header("host", "t").body(Full::new(Bytes::new())).unwrap();
        assert!(c.send_request(req).await.is_err());

        let never = layer.layer(tower::service_fn(|_req: Request<Full<Bytes>>| async {
            std::future::pending::<Result<Response<Full<Bytes>>, Infallible>>().await
        }));
        let call = never.oneshot(Request::put("/slow").body(Full::new(Bytes::new())).unwrap());
        assert!(tokio::time::timeout(Duration::from_millis(50), call).await.is_err());
        web::settle(&metrics).await;
    });
    let counted = web::values(&metrics, "http_server_requests");
    assert_eq!(counted[&labels(&[("method", "GET"), ("route", "unmatched"), ("status", "error")])], 1.0);
    assert_eq!(counted[&labels(&[("method", "PUT"), ("route", "unmatched"), ("status", "cancelled")])], 1.0);
    assert_eq!(counted.len(), 2, "{counted:?}");
}

#[test]
fn status_classes_and_a_classifier_name_the_series() {
    let metrics = memory();
    let layer = HttpMetricsLayer::builder()
        .status_label(StatusLabel::Class)
        .route_classifier(|req| match req.uri().path() {
            "/echo" => Some("/echo".into()),
            p if p.starts_with("/static/") => Some("/static/*".into()),
            _ => None,
        })
        .unmatched_route("other")
        .build(&metrics)
        .unwrap();
    rt().block_on(async {
        let addr = serve(layer).await;
        let mut c = web::connect(addr).await;
        for path in ["/echo", "/static/a.css", "/static/b/c.js", "/secret/alice@example.com", "/x"] {
            web::send(&mut c, "GET", path, b"").await;
        }
        web::send(&mut c, "PROPFIND", "/echo", b"").await;
        web::settle(&metrics).await;
    });
    let counted = web::values(&metrics, "http_server_requests");
    let expect = [
        (("GET", "/echo", "2xx"), 1.0),
        (("GET", "/static/*", "4xx"), 2.0),
        (("GET", "other", "4xx"), 2.0),
        (("OTHER", "/echo", "2xx"), 1.0),
    ];
    let expect: std::collections::BTreeMap<_, _> =
        expect.iter().map(|((m, r, s), n)| (labels(&[("method", m), ("route", r), ("status", s)]), *n)).collect();
    assert_eq!(counted, expect);
}

#[test]
fn two_layers_on_one_registry_share_the_metrics_and_conflicting_buckets_are_refused() {
    let metrics = memory();
    let a = HttpMetricsLayer::new(&metrics).unwrap();
    let b = HttpMetricsLayer::new(&metrics).unwrap();
    rt().block_on(async {
        for layer in [a, b] {
            let svc = layer.layer(tower::service_fn(|_req: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hi"))))
            }));
            let res = svc.oneshot(Request::get("/").body(Full::new(Bytes::new())).unwrap()).await.unwrap();
            drop(res.into_body().collect().await.unwrap());
        }
        web::settle(&metrics).await;
    });
    let counted = web::values(&metrics, "http_server_requests");
    assert_eq!(counted[&labels(&[("method", "GET"), ("route", "unmatched"), ("status", "200")])], 2.0);
    let other = codomyrmex_metrics::Buckets::new([1.0, 2.0]).unwrap();
    let err = HttpMetricsLayer::builder().duration_buckets(other).build(&metrics).unwrap_err();
    assert!(err.to_string().contains("buckets"), "{err}");
}
