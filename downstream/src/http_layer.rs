//! The HTTP layer on a tower service (and, with `axum`, on an axum router), requests driven
//! in-process with `oneshot`, as a user's handler tests would.

use std::convert::Infallible;

use bytes::Bytes;
use codomyrmex_metrics::HttpMetricsLayer;
use http::{Request, Response};
use http_body_util::Full;
use tower::{Layer, ServiceExt};

use crate::support::{memory, value_of};

pub const CHECKS: &[crate::Check] = &[
    ("the HTTP layer counts tower requests by route and status", tower_service),
    #[cfg(feature = "axum")]
    ("the HTTP layer labels axum requests by matched route", axum_router),
];

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

fn tower_service() {
    let m = memory();
    let layer = HttpMetricsLayer::builder()
        .route_classifier(|req| match req.uri().path() {
            "/api/v1/organizations/members/invitations" => Some("/api/v1/organizations/members/invitations".into()),
            p if p.starts_with("/users/") => Some("/users/{id}".into()),
            _ => None,
        })
        .build(&m)
        .unwrap();
    let svc = layer.layer(tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let status = if req.uri().path() == "/missing" { 404 } else { 200 };
        Ok::<_, Infallible>(Response::builder().status(status).body(Full::new(Bytes::from_static(b"ok"))).unwrap())
    }));
    rt().block_on(async {
        for path in ["/users/1", "/users/2", "/api/v1/organizations/members/invitations", "/missing", "/x%0A#evil"] {
            let req = Request::get(path).body(Full::new(Bytes::new())).unwrap();
            svc.clone().oneshot(req).await.unwrap();
        }
    });
    let t = crate::support::render_checked(&m);
    let count = |route: &str, status: &str| {
        value_of(&t, &format!("http_server_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}}"))
    };
    assert_eq!(count("/users/{id}", "200"), Some(2.0), "{t}");
    assert_eq!(count("/api/v1/organizations/members/invitations", "200"), Some(1.0), "{t}");
    assert_eq!(count("unmatched", "404"), Some(1.0), "{t}");
    assert_eq!(count("unmatched", "200"), Some(1.0), "{t}");
    assert!(!t.contains("evil"), "{t}");
    let in_flight: Vec<&str> = t.lines().filter(|l| l.starts_with("http_server_requests_in_flight{")).collect();
    assert_eq!(in_flight.len(), 3, "{t}");
    assert!(in_flight.iter().all(|l| l.ends_with(" 0")), "{in_flight:?}");
}

#[cfg(feature = "axum")]
fn axum_router() {
    use axum::routing::get;
    let m = memory();
    let app: axum::Router = axum::Router::new()
        .route("/api/v2/users/{user_id}/orders/{order_id}", get(|| async { "order" }))
        .layer(HttpMetricsLayer::new(&m).unwrap());
    rt().block_on(async {
        for i in 0..3 {
            let req = Request::get(format!("/api/v2/users/{i}/orders/checkout-service-7d9f8b6c5d-x2x9k"))
                .body(axum::body::Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 200);
        }
    });
    let t = crate::support::render_checked(&m);
    let line =
        "http_server_requests_total{method=\"GET\",route=\"/api/v2/users/{user_id}/orders/{order_id}\",status=\"200\"}";
    assert_eq!(value_of(&t, line), Some(3.0), "{t}");
}
