//! The HTTP layer's overhead per request: an axum app called in-process (no sockets, so the
//! layer's cost is not lost in network noise), uninstrumented and with `HttpMetricsLayer` in
//! several settings, against the way axum's own example measures requests (a `from_fn`
//! middleware calling the `metrics` macros, recorded by metrics-exporter-prometheus).
//! Run: `cargo bench -p codomyrmex-metrics-checks --features axum --bench http_layer` (`BENCH_QUICK=1` for a short run).

mod common;

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use codomyrmex_metrics::{get_metrics, Backend, HttpMetricsLayer, StatusLabel};
use common::{median_ns, Table};
use http_body_util::BodyExt;
use tower::{Service, ServiceExt};

const SAMPLES: usize = 5;
const ROUNDS: usize = 7;

fn iters() -> u64 {
    if common::quick() {
        10_000
    } else {
        50_000
    }
}

fn app() -> Router {
    Router::new().route("/users/{id}", get(|| async { "user" })).route("/health", get(|| async { "ok" }))
}

/// Median ns per request through `router`: build the request, call, read the whole body.
fn per_request(rt: &tokio::runtime::Runtime, router: Router) -> f64 {
    let mut svc = router.into_service::<Body>();
    median_ns(SAMPLES, iters(), |n| {
        rt.block_on(async {
            for i in 0..n {
                let req = Request::get(if i % 8 == 0 { "/health" } else { "/users/42" }).body(Body::empty()).unwrap();
                let res = svc.ready().await.unwrap().call(req).await.unwrap();
                std::hint::black_box(res.into_body().collect().await.unwrap());
            }
        })
    })
}

/// A layer that wraps the future and the response body like `HttpMetricsLayer` but records
/// nothing: what any body-measuring layer costs before it measures anything.
mod passthrough {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    use http_body::{Body, Frame};
    use pin_project_lite::pin_project;

    #[derive(Clone)]
    pub struct Layer;

    #[derive(Clone)]
    pub struct Service<S>(S);

    impl<S> tower::Layer<S> for Layer {
        type Service = Service<S>;
        fn layer(&self, inner: S) -> Service<S> {
            Service(inner)
        }
    }

    impl<S, Req, B> tower::Service<Req> for Service<S>
    where
        S: tower::Service<Req, Response = http::Response<B>>,
    {
        type Response = http::Response<Wrapped<B>>;
        type Error = S::Error;
        type Future = Fut<S::Future>;
        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.0.poll_ready(cx)
        }
        fn call(&mut self, req: Req) -> Self::Future {
            Fut { inner: self.0.call(req), bytes: 0 }
        }
    }

    pin_project! {
        pub struct Fut<F> { #[pin] inner: F, bytes: u64 }
    }

    impl<F, B, E> Future for Fut<F>
    where
        F: Future<Output = Result<http::Response<B>, E>>,
    {
        type Output = Result<http::Response<Wrapped<B>>, E>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let res = ready!(this.inner.poll(cx));
            let bytes = *this.bytes;
            Poll::Ready(res.map(|r| r.map(|inner| Wrapped { inner, bytes })))
        }
    }

    pin_project! {
        pub struct Wrapped<B> { #[pin] inner: B, bytes: u64 }
    }

    impl<B: Body> Body for Wrapped<B> {
        type Data = B::Data;
        type Error = B::Error;
        fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
            let this = self.project();
            let frame = ready!(this.inner.poll_frame(cx));
            if let Some(Ok(f)) = &frame {
                *this.bytes += f.data_ref().map_or(0, |d| bytes::Buf::remaining(d) as u64);
            }
            Poll::Ready(frame)
        }
    }
}

/// axum's `examples/prometheus-metrics`: a middleware with the `metrics` macros.
async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_owned(),
        None => req.uri().path().to_owned(),
    };
    let method = req.method().clone();
    let response = next.run(req).await;
    let latency = start.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    let labels = [("method", method.to_string()), ("path", path), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_requests_duration_seconds", &labels).record(latency);
    response
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ours = get_metrics(Backend::InMemory).unwrap();
    let ours_full = get_metrics(Backend::InMemory).unwrap();
    let full = HttpMetricsLayer::builder().sizes(true).status_label(StatusLabel::Class).build(&ours_full).unwrap();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let variants: Vec<(&str, Router)> = vec![
        ("axum, uninstrumented", app()),
        ("pass-through layer (wraps future and body, records nothing)", app().layer(passthrough::Layer)),
        ("HttpMetricsLayer (defaults)", app().layer(HttpMetricsLayer::new(&ours).unwrap())),
        ("HttpMetricsLayer (sizes, status class)", app().layer(full)),
        (
            "axum example: from_fn + metrics + metrics-exporter-prometheus",
            app().route_layer(middleware::from_fn(track_metrics)),
        ),
    ];
    // Rounds interleave the variants, so drift (allocator state, frequency) hits them all alike;
    // each variant's figure is the median of its rounds.
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..ROUNDS {
        for (i, (_, router)) in variants.iter().enumerate() {
            let ns = metrics::with_local_recorder(&recorder, || per_request(&rt, router.clone()));
            rounds[i].push(ns);
        }
    }
    assert!(handle.render().contains("http_requests_total"), "the peer recorded nothing");
    assert!(ours.render(codomyrmex_metrics::Format::PrometheusText).contains("http_server_requests_total"));

    let mut table = Table::new("HTTP layer: one request through an axum app, in-process", "ns/request");
    for ((name, _), mut r) in variants.iter().zip(rounds) {
        r.sort_by(f64::total_cmp);
        table.add(name, r[r.len() / 2]);
    }
    table.print("HttpMetricsLayer (defaults)", Some(("axum, uninstrumented", 2.0)));
    let base = table.value("axum, uninstrumented");
    for (name, _) in &variants[1..] {
        println!("- {name}: {:+.0} ns per request against uninstrumented", table.value(name) - base);
    }
}
