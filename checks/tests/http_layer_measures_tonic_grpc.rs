//! `HttpMetricsLayer` on a real tonic gRPC server, called by tonic's client over HTTP/2 on a
//! loopback socket: with `StatusLabel::Grpc` the status is the call's gRPC status, whether it
//! comes in the headers (a trailers-only error), in the trailers (after the messages of a
//! stream), or never (the client gave up: `cancelled`); made-up methods and services land in
//! `unmatched`; the in-flight gauge comes back to zero. Then the answers only a broken call
//! gives (no status, a made-up status, a reset stream) and a plain HTTP answer beside gRPC.
//!
//! The service is written by hand with a raw-bytes codec, so the test needs no protobuf
//! code generation.
#![cfg(feature = "tower")]

mod support;

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use codomyrmex_metrics::{get_metrics, Backend, HttpMetricsLayer, StatusLabel, UNMATCHED_ROUTE};
use http::uri::PathAndQuery;
use support::web::{self, labels};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use tower::service_fn;

/// Messages are the bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// The methods of `shop.Cart`, the classifier's allowlist.
const METHODS: [&str; 4] = ["/shop.Cart/Add", "/shop.Cart/Get", "/shop.Cart/Watch", "/shop.Cart/Slow"];

/// `shop.Cart`: `Add` echoes, `Get` is NOT_FOUND, `Watch` streams three messages and then
/// fails with RESOURCE_EXHAUSTED, `Slow` answers after 10 s; other methods are UNIMPLEMENTED.
#[derive(Debug, Clone)]
struct Cart;

impl NamedService for Cart {
    const NAME: &'static str = "shop.Cart";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type MessageStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<Bytes, Status>> + Send>>;

impl tower::Service<http::Request<tonic::body::Body>> for Cart {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(Raw);
            Ok(match req.uri().path() {
                "/shop.Cart/Add" => {
                    let add = service_fn(|r: Request<Bytes>| async move { Ok(Response::new(r.into_inner())) });
                    grpc.unary(add, req).await
                }
                "/shop.Cart/Get" => {
                    let get = service_fn(|_: Request<Bytes>| async {
                        Err::<Response<Bytes>, _>(Status::not_found("no cart"))
                    });
                    grpc.unary(get, req).await
                }
                "/shop.Cart/Watch" => {
                    let watch = service_fn(|_: Request<Bytes>| async {
                        let items = (0..3).map(|i| Ok(Bytes::from(vec![b'w'; 100 + i])));
                        let end = std::iter::once(Err(Status::resource_exhausted("enough")));
                        let stream: MessageStream = Box::pin(tokio_stream::iter(items.chain(end)));
                        Ok::<_, Status>(Response::new(stream))
                    });
                    grpc.server_streaming(watch, req).await
                }
                "/shop.Cart/Slow" => {
                    let slow = service_fn(|r: Request<Bytes>| async move {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        Ok::<_, Status>(Response::new(r.into_inner()))
                    });
                    grpc.unary(slow, req).await
                }
                _ => Status::unimplemented("no such method").into_http(),
            })
        })
    }
}

/// One gRPC call through `client`: its status code.
async fn call(
    client: &mut tonic::client::Grpc<tonic::transport::Channel>,
    path: &'static str,
    body: &[u8],
) -> tonic::Code {
    client.ready().await.expect("channel ready");
    let request = Request::new(Bytes::copy_from_slice(body));
    match client.unary::<_, Bytes, _>(request, PathAndQuery::from_static(path), Raw).await {
        Ok(reply) => {
            assert_eq!(reply.get_ref().as_ref(), body, "Add echoes");
            tonic::Code::Ok
        }
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_calls_are_counted_by_method_and_grpc_status() {
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let layer = HttpMetricsLayer::builder()
        .status_label(StatusLabel::Grpc)
        .sizes(true)
        .route_classifier(|req| METHODS.iter().find(|m| **m == req.uri().path()).map(|m| Cow::Borrowed(*m)))
        .build(&metrics)
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server =
        tokio::spawn(tonic::transport::Server::builder().layer(layer).add_service(Cart).serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            async {
                let _ = stopped.await;
            },
        ));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut client = tonic::client::Grpc::new(channel);

    for i in 0..5u8 {
        assert_eq!(call(&mut client, "/shop.Cart/Add", &[i; 1000]).await, tonic::Code::Ok);
    }
    for _ in 0..3 {
        assert_eq!(call(&mut client, "/shop.Cart/Get", b"cart-1").await, tonic::Code::NotFound);
    }
    // Made-up methods, of the service and of a service that does not exist: one route.
    assert_eq!(call(&mut client, "/shop.Cart/Drop%0Atables", b"").await, tonic::Code::Unimplemented);
    assert_eq!(call(&mut client, "/evil.Svc/x", b"").await, tonic::Code::Unimplemented);

    // A stream: three messages, then the status in the trailers.
    client.ready().await.unwrap();
    let watch = client
        .server_streaming::<_, Bytes, _>(Request::new(Bytes::new()), PathAndQuery::from_static("/shop.Cart/Watch"), Raw)
        .await
        .expect("the stream starts");
    let mut stream = watch.into_inner();
    let mut received = 0;
    let end = loop {
        match stream.message().await {
            Ok(Some(m)) => received += m.len(),
            Ok(None) => panic!("the stream ended without its error"),
            Err(status) => break status.code(),
        }
    };
    assert_eq!((received, end), (100 + 101 + 102, tonic::Code::ResourceExhausted));

    // A call the client gives up on: the server drops it unanswered.
    let slow = tokio::time::timeout(Duration::from_millis(200), call(&mut client, "/shop.Cart/Slow", b"zzz")).await;
    assert!(slow.is_err(), "Slow answered within 200 ms");
    web::settle(&metrics).await;

    let requests = web::values(&metrics, "http_server_requests");
    let series = |route: &str, status: &str| labels(&[("method", "POST"), ("route", route), ("status", status)]);
    let expected = [
        (series("/shop.Cart/Add", "OK"), 5.0),
        (series("/shop.Cart/Get", "NOT_FOUND"), 3.0),
        (series(UNMATCHED_ROUTE, "UNIMPLEMENTED"), 2.0),
        (series("/shop.Cart/Watch", "RESOURCE_EXHAUSTED"), 1.0),
        (series("/shop.Cart/Slow", "cancelled"), 1.0),
    ];
    assert_eq!(requests, expected.iter().cloned().collect(), "requests by method, route and gRPC status");
    let durations = web::histograms(&metrics, "http_server_request_duration_seconds");
    for (labels, n) in &expected {
        assert_eq!(durations[labels].0 as f64, *n, "durations of {labels:?}");
    }
    // Response sizes are the bytes sent: 5-byte gRPC frame headers plus the messages.
    let sizes = web::histograms(&metrics, "http_server_response_size_bytes");
    assert_eq!(sizes[&series("/shop.Cart/Add", "OK")], (5, 5.0 * 1005.0));
    assert_eq!(sizes[&series("/shop.Cart/Watch", "RESOURCE_EXHAUSTED")], (1, 303.0 + 15.0));
    assert!(!sizes.contains_key(&series("/shop.Cart/Slow", "cancelled")), "no response, no size");
    let in_flight: f64 = web::values(&metrics, "http_server_requests_in_flight").values().sum();
    assert_eq!(in_flight, 0.0);
    let text = metrics.render(codomyrmex_metrics::Format::PrometheusText);
    assert!(!text.contains("evil") && !text.contains("Drop"), "a made-up method reached the labels:\n{text}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// The answers a real gRPC server gives only when something is wrong, made by hand and sent
/// through the layer in-process: a stream that ends without its status, one dropped before
/// its trailers, a status outside the specification, and a plain HTTP answer beside gRPC.
#[tokio::test]
async fn broken_and_plain_answers_get_bounded_statuses() {
    use http_body::Frame;
    use http_body_util::{BodyExt, Full, StreamBody};
    use tower::{Layer, ServiceExt};

    type Frames = StreamBody<tokio_stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let layer = HttpMetricsLayer::builder()
        .status_label(StatusLabel::Grpc)
        .route_classifier(|req| Some(Cow::Owned(req.uri().path().to_owned())))
        .build(&metrics)
        .unwrap();
    let service = layer.layer(service_fn(|req: http::Request<Full<Bytes>>| async move {
        let message = || Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\x01m")));
        let trailers = |code: &str| {
            let mut t = http::HeaderMap::new();
            t.insert("grpc-status", code.parse().unwrap());
            Ok(Frame::trailers(t))
        };
        let frames = match req.uri().path() {
            "/no-status" | "/dropped" => vec![message()],
            "/made-up-status" => vec![message(), trailers("42")],
            _ => {
                return Ok::<_, Infallible>(
                    http::Response::builder().status(404).body(Frames::new(tokio_stream::iter(vec![]))).unwrap(),
                )
            }
        };
        let body: Frames = StreamBody::new(tokio_stream::iter(frames));
        Ok(http::Response::builder().header("content-type", "application/grpc").body(body).unwrap())
    }));
    for path in ["/no-status", "/made-up-status", "/dropped", "/healthz"] {
        let request = http::Request::post(path).body(Full::new(Bytes::new())).unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        if path == "/dropped" {
            let mut body = response.into_body();
            body.frame().await.expect("the message").unwrap();
            drop(body); // the client reset the call before the trailers
        } else {
            response.into_body().collect().await.unwrap();
        }
    }

    let requests = web::values(&metrics, "http_server_requests");
    let series = |route: &str, status: &str| labels(&[("method", "POST"), ("route", route), ("status", status)]);
    let expected = [
        (series("/no-status", codomyrmex_metrics::STATUS_ERROR), 1.0),
        (series("/made-up-status", "UNKNOWN"), 1.0),
        (series("/dropped", codomyrmex_metrics::STATUS_CANCELLED), 1.0),
        (series("/healthz", "404"), 1.0),
    ];
    assert_eq!(requests, expected.into_iter().collect());
    let in_flight: f64 = web::values(&metrics, "http_server_requests_in_flight").values().sum();
    assert_eq!(in_flight, 0.0);
}
