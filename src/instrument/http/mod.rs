//! A tower [`Layer`] that measures HTTP services (axum, hyper, tonic, anything built on
//! `http::Request` and `http::Response`): requests by method, route and status, their
//! duration, the requests in flight, and optionally request and response sizes.

mod body;
mod labels;
mod record;
mod service;

use std::borrow::Cow;
use std::sync::Arc;

use tower_layer::Layer;

pub use body::HttpResponseBody;
pub use labels::{RequestInfo, StatusLabel, GRPC_STATUS_NAMES, STATUS_CANCELLED, STATUS_ERROR};
pub use service::{HttpMetricsService, HttpResponseFuture};

use crate::error::RegistrationError;
use crate::registry::{MetricOpts, Registry, Unit};
use crate::{Buckets, CounterFamily, GaugeFamily, HistogramFamily};
use labels::Classifier;

/// `route` for requests no route matched (and no classifier named).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Request duration buckets, in seconds: OpenTelemetry's advice for `http.server.request.duration`.
pub const DEFAULT_DURATION_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

/// What every service of one layer shares.
pub(crate) struct Shared {
    requests: CounterFamily,
    duration: HistogramFamily,
    in_flight: GaugeFamily,
    sizes: Option<Sizes>,
    status: StatusLabel,
    classifier: Option<Arc<Classifier>>,
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    matched_path: bool,
    unmatched: Arc<str>,
}

struct Sizes {
    request: HistogramFamily,
    response: HistogramFamily,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetrics")
            .field("status", &self.status)
            .field("sizes", &self.sizes.is_some())
            .field("classifier", &self.classifier.is_some())
            .field("unmatched", &self.unmatched)
            .finish_non_exhaustive()
    }
}

/// Measures every request through the services it wraps. Build it once per registry with
/// [`HttpMetricsLayer::new`] or [`HttpMetricsLayer::builder`]; clones share the same metrics.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `http_server_requests_total` | counter | `method`, `route`, `status` |
/// | `http_server_request_duration_seconds` | histogram | `method`, `route`, `status` |
/// | `http_server_requests_in_flight` | gauge | `method`, `route` |
/// | `http_server_request_size_bytes` (with [`HttpMetricsBuilder::sizes`]) | histogram | `method`, `route`, `status` |
/// | `http_server_response_size_bytes` (with [`HttpMetricsBuilder::sizes`]) | histogram | `method`, `route`, `status` |
///
/// - `method`: the nine standard methods; any other is `OTHER`.
/// - `route`: the route template, never the raw path: the classifier's answer
///   ([`HttpMetricsBuilder::route_classifier`]), else axum's `MatchedPath` (feature `axum`),
///   else [`UNMATCHED_ROUTE`].
/// - `status`: the code (`404`) or its class (`4xx`) ([`StatusLabel`]); [`STATUS_ERROR`] when
///   the service returned an error, [`STATUS_CANCELLED`] when the request was dropped first.
/// - A request is counted, and its duration observed, when its response body ends or is
///   dropped; until then it is in flight. The request size is its declared length
///   (`Content-Length`), not observed when unknown; the response size is the bytes sent.
/// - gRPC (tonic): set [`StatusLabel::Grpc`], so `status` is the call's gRPC status (`OK`,
///   `NOT_FOUND`, …) rather than the HTTP 200 that gRPC answers even for failed calls; name
///   routes with a classifier that keeps the paths (`/package.Service/Method`) of the
///   services you serve (see [`HttpMetricsBuilder::route_classifier`]).
/// - Every label value then passes the registry's policy like any other (sanitization,
///   cardinality limits), so a misbehaving classifier still cannot grow series without bound.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{routing::get, Router};
/// use codomyrmex_metrics::{get_metrics, Backend, HttpMetricsLayer};
///
/// let metrics = get_metrics(Backend::InMemory).unwrap();
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "hello" }))
///     .layer(HttpMetricsLayer::new(&metrics).unwrap());
/// # let _ = app; }
/// ```
#[derive(Debug, Clone)]
pub struct HttpMetricsLayer {
    shared: Arc<Shared>,
}

impl HttpMetricsLayer {
    /// The layer with the default settings, registered in `registry`.
    ///
    /// # Errors
    /// As [`HttpMetricsBuilder::build`].
    pub fn new(registry: &Registry) -> Result<Self, RegistrationError> {
        Self::builder().build(registry)
    }

    /// A builder for the layer's settings.
    pub fn builder() -> HttpMetricsBuilder {
        HttpMetricsBuilder::default()
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpMetricsService { inner, shared: Arc::clone(&self.shared) }
    }
}

/// Settings of an [`HttpMetricsLayer`].
#[must_use]
pub struct HttpMetricsBuilder {
    status: StatusLabel,
    sizes: bool,
    duration_buckets: Option<Buckets>,
    size_buckets: Option<Buckets>,
    classifier: Option<Arc<Classifier>>,
    matched_path: bool,
    unmatched: Cow<'static, str>,
}

impl Default for HttpMetricsBuilder {
    fn default() -> Self {
        Self {
            status: StatusLabel::default(),
            sizes: false,
            duration_buckets: None,
            size_buckets: None,
            classifier: None,
            matched_path: true,
            unmatched: Cow::Borrowed(UNMATCHED_ROUTE),
        }
    }
}

impl std::fmt::Debug for HttpMetricsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetricsBuilder")
            .field("status", &self.status)
            .field("sizes", &self.sizes)
            .field("classifier", &self.classifier.is_some())
            .field("matched_path", &self.matched_path)
            .field("unmatched", &self.unmatched)
            .finish_non_exhaustive()
    }
}

impl HttpMetricsBuilder {
    /// The `status` label as the code (default) or the class.
    pub fn status_label(mut self, status: StatusLabel) -> Self {
        self.status = status;
        self
    }

    /// Also measure request and response sizes \[off\].
    pub fn sizes(mut self, on: bool) -> Self {
        self.sizes = on;
        self
    }

    /// Duration buckets, in seconds [[`DEFAULT_DURATION_BUCKETS`]].
    pub fn duration_buckets(mut self, buckets: Buckets) -> Self {
        self.duration_buckets = Some(buckets);
        self
    }

    /// Size buckets, in bytes [64 B to 16 MiB, ×4].
    pub fn size_buckets(mut self, buckets: Buckets) -> Self {
        self.size_buckets = Some(buckets);
        self
    }

    /// Names the route of a request, asked before the router's matched path. Return a
    /// template (`"/users/{id}"`), or `None` to fall through. Never return the raw path.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use codomyrmex_metrics::{HttpMetricsLayer, StatusLabel};
    /// // gRPC: the path is `/package.Service/Method`. Keep the methods you serve, so a client
    /// // calling made-up ones lands in `unmatched` instead of minting series.
    /// const METHODS: [&str; 2] = ["/shop.Cart/Add", "/shop.Cart/Get"];
    /// let builder = HttpMetricsLayer::builder()
    ///     .status_label(StatusLabel::Grpc)
    ///     .route_classifier(|req| METHODS.iter().find(|m| **m == req.uri().path()).map(|m| Cow::Borrowed(*m)));
    /// # let _ = builder;
    /// ```
    pub fn route_classifier(
        mut self,
        classify: impl Fn(&RequestInfo<'_>) -> Option<Cow<'static, str>> + Send + Sync + 'static,
    ) -> Self {
        self.classifier = Some(Arc::new(classify));
        self
    }

    /// Whether axum's `MatchedPath` names the route \[on\] (feature `axum`).
    pub fn matched_path(mut self, on: bool) -> Self {
        self.matched_path = on;
        self
    }

    /// The `route` of requests nothing named [[`UNMATCHED_ROUTE`]].
    pub fn unmatched_route(mut self, route: impl Into<Cow<'static, str>>) -> Self {
        self.unmatched = route.into();
        self
    }

    /// Registers the metrics in `registry` and returns the layer. Building twice with the
    /// same settings shares the same metrics.
    ///
    /// # Errors
    /// [`RegistrationError`] when one of the names is registered already with another type,
    /// help, unit, label keys or buckets.
    pub fn build(self, registry: &Registry) -> Result<HttpMetricsLayer, RegistrationError> {
        const KEYS: [&str; 3] = ["method", "route", "status"];
        let duration_buckets = match self.duration_buckets {
            Some(b) => b,
            None => Buckets::new(DEFAULT_DURATION_BUCKETS).unwrap_or_default(),
        };
        let requests = registry.register_counter(
            MetricOpts::new("http_server_requests", "HTTP requests answered, by method, route and status.")
                .labels(KEYS),
        )?;
        let duration = registry.register_histogram(
            MetricOpts::new(
                "http_server_request_duration",
                "Time from receiving an HTTP request to the end of its response body.",
            )
            .unit(Unit::SECONDS)
            .labels(KEYS)
            .buckets(duration_buckets),
        )?;
        let in_flight = registry.register_gauge(
            MetricOpts::new("http_server_requests_in_flight", "HTTP requests whose response has not ended yet.")
                .labels(["method", "route"]),
        )?;
        let sizes = if self.sizes {
            let buckets = match self.size_buckets {
                Some(b) => b,
                None => Buckets::exponential(64.0, 4.0, 10).unwrap_or_default(),
            };
            let family = |name: &str, help: &str| {
                registry.register_histogram(
                    MetricOpts::new(name, help).unit(Unit::BYTES).labels(KEYS).buckets(buckets.clone()),
                )
            };
            Some(Sizes {
                request: family("http_server_request_size", "HTTP request body sizes, as declared by Content-Length.")?,
                response: family("http_server_response_size", "HTTP response body sizes, as sent.")?,
            })
        } else {
            None
        };
        Ok(HttpMetricsLayer {
            shared: Arc::new(Shared {
                requests,
                duration,
                in_flight,
                sizes,
                status: self.status,
                classifier: self.classifier,
                matched_path: self.matched_path,
                unmatched: Arc::from(&*self.unmatched),
            }),
        })
    }
}
