//! Backends and the `get_metrics` factory.

pub(crate) mod config;
mod env_vars;
mod handle;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
#[cfg(any(feature = "pushgateway", feature = "statsd", feature = "otlp"))]
pub(crate) mod outbound;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub mod prometheus;
mod push_worker;
#[cfg(feature = "pushgateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "pushgateway")))]
pub mod pushgateway;
#[cfg(any(feature = "pushgateway", feature = "statsd", feature = "otlp"))]
pub(crate) mod retry;
#[cfg_attr(not(any(feature = "_http-server", feature = "_http-client", feature = "statsd")), allow(dead_code))]
pub(crate) mod secret_file;
#[cfg(feature = "statsd")]
#[cfg_attr(docsrs, doc(cfg(feature = "statsd")))]
pub mod statsd;
#[cfg(feature = "tls")]
// Its client half is used by the Pushgateway and StatsD clients, its loaders by the endpoint too.
#[cfg_attr(not(any(feature = "pushgateway", feature = "statsd", feature = "otlp")), allow(dead_code, unused_imports))]
pub(crate) mod tls_client;
pub(crate) mod url;

pub use config::{
    Backend, ACCEPTED_SCHEMES, ENV_BACKEND, ENV_GLOBAL_LABELS, ENV_MAX_SERIES_PER_METRIC, ENV_MAX_SERIES_TOTAL,
    ENV_PREFIX,
};
pub use env_vars::KNOWN_ENV_VARS;
pub use handle::{get_metrics, Metrics, MetricsBuilder};
#[cfg(any(feature = "pushgateway", feature = "statsd", feature = "otlp"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "pushgateway", feature = "statsd", feature = "otlp"))))]
pub use outbound::{CircuitBreaker, ENV_ALLOWED_BACKEND_HOSTS};

// The backends' types are used from the crate root; their pages live in their modules (shown
// there once, not a second time at the root).
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
#[doc(no_inline)]
pub use otlp::{
    OtlpBuilder, OtlpCompression, OtlpConfig, OtlpError, OtlpEvent, OtlpExporter, OtlpProtocol, Temporality,
};
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
#[doc(no_inline)]
pub use prometheus::{PrometheusBuilder, PrometheusConfig, PrometheusExporter, ScrapeEvent, ScrapeHandler};
#[cfg(feature = "pushgateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "pushgateway")))]
#[doc(no_inline)]
pub use pushgateway::{PushEvent, PushMethod, PushgatewayBuilder, PushgatewayConfig, PushgatewayExporter};
pub use secret_file::SecretFilePolicy;
#[cfg(feature = "statsd")]
#[cfg_attr(docsrs, doc(cfg(feature = "statsd")))]
#[doc(no_inline)]
pub use statsd::{
    Dialect, EtsyLabels, HistogramAs, StatsdBuilder, StatsdConfig, StatsdEvent, StatsdExporter, StatsdTransport,
};
