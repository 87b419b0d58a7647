//! Backends and the `get_metrics` factory.

mod config;
mod handle;
mod push_worker;

pub use config::{
    Backend, ACCEPTED_SCHEMES, ENV_BACKEND, ENV_GLOBAL_LABELS, ENV_MAX_SERIES_PER_METRIC, ENV_MAX_SERIES_TOTAL,
    ENV_PREFIX,
};
pub use handle::{get_metrics, Metrics, MetricsBuilder};
