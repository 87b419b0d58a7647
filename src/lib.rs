//! # codomyrmex-metrics
//!
//! A metrics SDK that is safe by default. Counters, gauges and histograms are recorded through
//! one [`Registry`] that enforces a security [`Policy`] — valid names, label allowlists,
//! sanitization, a guard against secrets and personal data in labels, cardinality limits —
//! and feeds pluggable backends built by [`get_metrics`].
//!
//! ## Quick start
//!
//! ```
//! use codomyrmex_metrics::{get_metrics, Backend, Format};
//!
//! let metrics = get_metrics(Backend::InMemory).unwrap();
//! let requests = metrics
//!     .counter_family("http_requests", "HTTP requests served.", &["method", "status"])
//!     .unwrap();
//! let ok = requests.with(&["GET", "200"]); // resolved once: the policy runs here
//! ok.inc();                                 // one relaxed atomic add
//! ok.inc_by(2);
//! requests.with(&["POST", "alice@example.com"]).inc(); // redacted, never exported
//!
//! let text = metrics.render(Format::PrometheusText);
//! let expected = concat!(
//!     "# HELP http_requests_total HTTP requests served.\n",
//!     "# TYPE http_requests_total counter\n",
//!     "http_requests_total{method=\"GET\",status=\"200\"} 3\n",
//!     "http_requests_total{method=\"POST\",status=\"[REDACTED]\"} 1\n",
//! );
//! assert!(text.starts_with(expected), "{text}");
//! assert!(text.contains("codomyrmex_metrics_label_values_redacted_total{reason=\"email\"} 1\n"));
//! ```
//!
//! ## Cargo features
//!
//! The default build is the registry, the policy, both text encoders, the `metrics` facade and
//! the in-memory, no-op and custom backends. Each backend and transport is a feature:
//!
//! | feature | adds |
//! |---|---|
//! | `prometheus` | the secure scrape endpoint (`PrometheusConfig`): loopback by default, auth, TLS with `tls`, limits |
//! | `pushgateway` | the Pushgateway client (`PushgatewayConfig`) for batch jobs |
//! | `statsd` | the StatsD client (`StatsdConfig`) over UDP, TCP, Unix sockets, and TLS with `tls`; Etsy, DogStatsD and InfluxDB dialects |
//! | `tls` | rustls (ring) for the endpoint and both clients |
//! | `tower` | `HttpMetricsLayer`: requests, durations, in-flight and sizes of any tower HTTP service (hyper, tonic) |
//! | `axum` | the layer, with axum's matched route as the `route` label |
//! | `process` | Prometheus' process metrics on Linux (`Registry::register_process_metrics`) |
//! | `full` | all of the above |
//!
//! Items that need a feature say so in these docs.
//!
//! ## The pipeline
//!
//! `instrument` (typed handles, the `metrics` facade) → `policy` (validate → allowlist →
//! sanitize → sensitive → cardinality, once per new series) → `registry`/`storage` (atomic
//! cells) → `export` (Prometheus text 0.0.4, OpenMetrics 1.0, custom exporters) → backends.
//!
//! ## Behavior
//!
//! Every rewrite the crate makes, with its default, is listed in `docs/policy.md`; a test
//! keeps that table in step with the code. In short: label values lose control characters
//! and are cut at 128 bytes; values outside an allowlist become `other`; values that look
//! like e-mails, JWTs, bearer tokens, API keys or card numbers become `[REDACTED]`; past 2,000
//! series per metric (100,000 in all) new label sets go to one `{codomyrmex_overflow="true"}`
//! series; counters render with `_total`; every change is counted under `codomyrmex_metrics_`.

#![deny(missing_docs)]
#![warn(unreachable_pub, missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod error;
pub mod export;
pub mod facade;
mod instrument;
pub mod policy;
mod registry;
mod storage;

pub use backend::*;
pub use error::{ConfigError, PolicyError, RegistrationError};
pub use export::Format;
pub use facade::FacadeRecorder;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use instrument::http::{
    HttpMetricsBuilder, HttpMetricsLayer, HttpMetricsService, HttpResponseBody, HttpResponseFuture, RequestInfo,
    StatusLabel, DEFAULT_DURATION_BUCKETS, GRPC_STATUS_NAMES, STATUS_CANCELLED, STATUS_ERROR, UNMATCHED_ROUTE,
};
#[cfg(feature = "process")]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
pub use instrument::PROCESS_METRICS;
pub use instrument::{
    Counter, CounterFamily, Fixed, FixedLabels, FixedLabelsError, Gauge, GaugeFamily, Histogram, HistogramFamily,
    MAX_LABEL_KEYS,
};
pub use policy::{Policy, SensitiveAction, SensitiveGuard, ValueAllowlist};
pub use registry::{
    Clock, Descriptor, Event, ManualClock, MetricKind, MetricOpts, NewSeries, Registry, RegistryBuilder, SelfCount,
    SelfCounters, SelfMetrics, SelfReason, SeriesEvent, SeriesHook, SeriesObserver, SeriesRef, SystemClock, Unit,
    DEFAULT_MAX_FAMILIES, MAX_COLLECTORS, MAX_HELP_LEN, SELF_PREFIX,
};
pub use storage::{
    Buckets, BucketsError, ExpBuckets, ExpHistogramSnapshot, HistogramCell, HistogramSnapshot, EXP_MAX_BUCKETS,
    EXP_MAX_SCALE, MAX_BUCKETS,
};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// docs/security.md's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/security.md")]
pub struct SecurityDoctests;

/// SECURITY.md's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "prometheus", feature = "statsd", feature = "tls"))]
#[doc = include_str!("../SECURITY.md")]
pub struct SecurityPolicyDoctests;

/// docs/getting-started.md's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "axum", feature = "prometheus", feature = "process"))]
#[doc = include_str!("../docs/getting-started.md")]
pub struct GettingStartedDoctests;

/// docs/backends.md's examples, compiled as doctests.
#[cfg(all(doctest, feature = "statsd"))]
#[doc = include_str!("../docs/backends.md")]
pub struct BackendsDoctests;
