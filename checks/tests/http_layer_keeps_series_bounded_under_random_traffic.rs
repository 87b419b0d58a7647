//! An axum app behind `HttpMetricsLayer`, served on a real loopback socket, takes 100,000
//! requests to random paths with random methods. The series stay bounded by the app's routes
//! (never the raw paths), and the counts match what the clients saw, request for request.
#![cfg(feature = "axum")]

mod support;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use codomyrmex_metrics::{get_metrics, Backend, Format, HttpMetricsLayer};
use support::web::{self, Labels};

const REQUESTS: usize = 100_000;
const CONNECTIONS: usize = 4;

/// A small deterministic generator (xorshift64*), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A path segment of 1..=40 characters, percent-encoded where a URI needs it.
    fn segment(&mut self) -> String {
        const CHARS: &[&str] = &[
            "a",
            "Z",
            "0",
            "-",
            "_",
            ".",
            "~",
            "%20",
            "%22",
            "%5C",
            "%0A",
            "%0D",
            "%7C",
            ",",
            ":",
            "%23",
            "@",
            "=",
            "%7B",
            "%7D",
            "%C3%A9",
            "%E2%82%AC",
            "alice%40example.com",
        ];
        (0..1 + self.below(40)).map(|_| CHARS[self.below(CHARS.len())]).collect()
    }
}

/// What the app serves: (method, path) → expected route label.
fn request(rng: &mut Rng) -> (String, String, &'static str) {
    const METHODS: &[&str] =
        &["GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "BREW", "X-EVIL"];
    let method = METHODS[rng.below(METHODS.len())].to_owned();
    let (path, route) = match rng.below(6) {
        0 => (format!("/users/{}", rng.segment()), "/users/{id}"),
        1 => (format!("/api/v1/items/{}/buy", rng.segment()), "/api/v1/items/{item}/buy"),
        2 => ("/health".to_owned(), "/health"),
        3 => (format!("/api/v1/{}", rng.segment()), "unmatched"),
        _ => ((0..1 + rng.below(4)).map(|_| format!("/{}", rng.segment())).collect(), "unmatched"),
    };
    (method, path, route)
}

fn expected_method(m: &str) -> &str {
    match m {
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "CONNECT" | "OPTIONS" | "TRACE" | "PATCH" => m,
        _ => "OTHER",
    }
}

fn app() -> Router {
    let api = Router::new().route("/items/{item}/buy", post(|| async { "bought" }));
    Router::new()
        .route("/users/{id}", get(|| async { "user" }).delete(|| async { axum::http::StatusCode::NO_CONTENT }))
        .route("/health", get(|| async { Body::from("ok") }))
        .nest("/api/v1", api)
}

#[test]
fn one_hundred_thousand_random_requests_keep_series_bounded_and_totals_exact() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_abcd_u64);
    eprintln!("seed {seed} (rerun with SEED={seed})");
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let layer = HttpMetricsLayer::builder().sizes(true).build(&metrics).unwrap();
    let app = app().layer(layer);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let seen: BTreeMap<Labels, f64> = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let clients = (0..CONNECTIONS).map(|c| {
            let mut rng = Rng(seed.wrapping_add((c as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
            tokio::spawn(async move {
                let mut client = web::connect(addr).await;
                let mut seen: BTreeMap<Labels, f64> = BTreeMap::new();
                for _ in 0..REQUESTS / CONNECTIONS {
                    let (method, path, route) = request(&mut rng);
                    let (status, _) = web::send(&mut client, &method, &path, b"").await;
                    let labels = web::labels(&[
                        ("method", expected_method(&method)),
                        ("route", route),
                        ("status", &status.to_string()),
                    ]);
                    *seen.entry(labels).or_default() += 1.0;
                }
                seen
            })
        });
        let mut all = BTreeMap::new();
        for c in clients.collect::<Vec<_>>() {
            for (k, v) in c.await.unwrap() {
                *all.entry(k).or_default() += v;
            }
        }
        web::settle(&metrics).await;
        all
    });

    let counted = web::values(&metrics, "http_server_requests");
    assert_eq!(counted.values().sum::<f64>(), REQUESTS as f64);
    assert_eq!(counted, seen, "the counter must match what the clients saw, label set by label set");
    let durations = web::values(&metrics, "http_server_request_duration_seconds");
    assert_eq!(durations, seen, "one duration per request");
    let responses = web::values(&metrics, "http_server_response_size_bytes");
    assert_eq!(responses, seen, "one response size per request");

    // Bounded: every series names a route of the app (3) or `unmatched`; at most one series
    // per method label (10), route and status the app can answer.
    let routes: std::collections::BTreeSet<String> =
        counted.keys().map(|l| l.iter().find(|(k, _)| k == "route").unwrap().1.clone()).collect();
    assert_eq!(
        routes.into_iter().collect::<Vec<_>>(),
        ["/api/v1/items/{item}/buy", "/health", "/users/{id}", "unmatched"]
    );
    eprintln!("{} series for {REQUESTS} requests", counted.len());
    assert!(counted.len() <= 40, "{} series for 100,000 requests", counted.len());
    let text = metrics.render(Format::PrometheusText);
    assert!(!text.contains("alice"), "a raw path reached the exposition");
    assert!(!text.contains("codomyrmex_overflow"), "no series should have overflowed");
    let in_flight = web::values(&metrics, "http_server_requests_in_flight");
    assert!(in_flight.values().all(|v| *v == 0.0), "{in_flight:?}");
    metrics.shutdown().unwrap();
}
