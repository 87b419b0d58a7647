//! `Backend`: what the registry feeds, from code, a URL or the environment.

use std::str::FromStr;

use crate::error::ConfigError;
use crate::export::Exporter;

/// Environment variable naming the backend(s): one URL, or several separated by `,` or spaces.
pub const ENV_BACKEND: &str = "CODOMYRMEX_METRICS_BACKEND";
/// Environment variable with a metric-name prefix.
pub const ENV_PREFIX: &str = "CODOMYRMEX_METRICS_PREFIX";
/// Environment variable with global labels: `key=value,key2=value2`.
pub const ENV_GLOBAL_LABELS: &str = "CODOMYRMEX_METRICS_GLOBAL_LABELS";
/// Environment variable overriding the series limit per metric.
pub const ENV_MAX_SERIES_PER_METRIC: &str = "CODOMYRMEX_METRICS_MAX_SERIES_PER_METRIC";
/// Environment variable overriding the registry-wide series limit.
pub const ENV_MAX_SERIES_TOTAL: &str = "CODOMYRMEX_METRICS_MAX_SERIES_TOTAL";

/// The URL forms `Backend` parses, for error messages.
pub const ACCEPTED_SCHEMES: &str = "memory:// (in-memory, render on demand), noop:// (records nothing); \
with cargo features: prometheus://HOST:PORT/PATH, prometheus+tls://HOST:PORT/PATH (features `prometheus`, `tls`), \
pushgateway://HOST:PORT/job/NAME, pushgateway+https://HOST:PORT/job/NAME (feature `pushgateway`), \
statsd://HOST:PORT, statsd+tcp://HOST:PORT, statsd+tls://HOST:PORT, statsd+unix:///PATH, \
statsd+unixgram:///PATH (feature `statsd`), otlp+http://HOST:PORT[/PATH], otlp+https://HOST:PORT[/PATH] \
(feature `otlp`); several at once separated by `,`";

/// Schemes of backends that live behind a cargo feature this build does not have.
const FEATURE_SCHEMES: &[(&str, &str)] = &[
    ("prometheus", "prometheus"),
    ("prometheus+tls", "prometheus` and `tls"),
    ("pushgateway", "pushgateway"),
    ("pushgateway+http", "pushgateway"),
    ("pushgateway+https", "pushgateway"),
    ("otlp+http", "otlp"),
    ("otlp+https", "otlp"),
    ("otlp+grpc", "otlp-grpc"),
    ("otlp+grpcs", "otlp-grpc` and `tls"),
    ("statsd", "statsd"),
    ("statsd+udp", "statsd"),
    ("statsd+tcp", "statsd"),
    ("statsd+tls", "statsd"),
    ("statsd+unix", "statsd"),
    ("statsd+unixgram", "statsd"),
];

/// Where metrics go. Build one in code, parse one from a URL (`"memory://".parse()`), or read
/// it from [`ENV_BACKEND`] with [`Backend::from_env`].
///
/// ```
/// use codomyrmex_metrics::Backend;
/// let b: Backend = "memory://".parse().unwrap();
/// assert!(matches!(b, Backend::InMemory));
/// let err = "carrier-pigeon://x".parse::<Backend>().unwrap_err().to_string();
/// assert!(err.contains("memory://"), "{err}");
/// ```
#[derive(Debug)]
#[non_exhaustive]
// A configuration value built once: its size does not matter, and boxing would burden callers.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    /// Keeps everything in memory; render on demand with [`crate::Metrics::render`].
    InMemory,
    /// Records nothing: every handle is a no-op. Registration still validates names.
    Noop,
    /// A user-supplied exporter (see [`crate::export::PullExporter`] and [`crate::export::PushExporter`]).
    Custom(Exporter),
    /// Several backends fed by the same registry.
    Multi(Vec<Backend>),
    /// The built-in Prometheus scrape endpoint (feature `prometheus`).
    #[cfg(feature = "prometheus")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
    Prometheus(crate::backend::prometheus::PrometheusConfig),
    /// Pushes to a Pushgateway (feature `pushgateway`).
    #[cfg(feature = "pushgateway")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pushgateway")))]
    Pushgateway(crate::backend::pushgateway::PushgatewayConfig),
    /// Exports over OTLP to a Collector or any OTLP store (feature `otlp`).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    Otlp(crate::backend::otlp::OtlpConfig),
    /// Sends to a StatsD server over UDP, TCP, TLS or a Unix socket (feature `statsd`).
    #[cfg(feature = "statsd")]
    #[cfg_attr(docsrs, doc(cfg(feature = "statsd")))]
    Statsd(crate::backend::statsd::StatsdConfig),
}

impl Backend {
    /// Parses one URL, or several separated by `,` or white space.
    ///
    /// # Errors
    /// [`ConfigError::UnknownScheme`] or [`ConfigError::InvalidUrl`], listing what is accepted.
    pub fn from_url(text: &str) -> Result<Self, ConfigError> {
        Self::from_url_with(text, &|k| std::env::var(k).ok())
    }

    /// Like [`Self::from_url`], reading the environment variables some backends take (TLS and
    /// auth files) through `lookup`.
    ///
    /// # Errors
    /// As [`Self::from_url`].
    pub fn from_url_with(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let parts: Vec<&str> = text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).collect();
        match parts.as_slice() {
            [] => Err(invalid("empty backend URL")),
            [one] => Self::from_one_url(one, lookup),
            many => {
                many.iter().map(|u| Self::from_one_url(u, lookup)).collect::<Result<Vec<_>, _>>().map(Backend::Multi)
            }
        }
    }

    #[cfg_attr(
        not(any(feature = "prometheus", feature = "pushgateway", feature = "statsd", feature = "otlp")),
        allow(unused_variables)
    )]
    fn from_one_url(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let Some((scheme, _rest)) = text.split_once("://") else {
            return Err(invalid("expected SCHEME://…"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let url = crate::backend::url::BackendUrl::parse(text)?;
        match scheme.as_str() {
            "memory" | "noop" => {
                if url.host()?.is_some() || !matches!(url.path(), "" | "/") {
                    return Err(invalid(&format!("{scheme}:// takes no host or path")));
                }
                Ok(if scheme == "memory" { Backend::InMemory } else { Backend::Noop })
            }
            #[cfg(feature = "prometheus")]
            "prometheus" | "prometheus+tls" => {
                crate::backend::prometheus::from_url::config_from_url(&url, scheme == "prometheus+tls", lookup)
                    .map(Backend::Prometheus)
            }
            #[cfg(feature = "pushgateway")]
            "pushgateway" | "pushgateway+http" | "pushgateway+https" => {
                crate::backend::pushgateway::from_url::config_from_url(&url, scheme == "pushgateway+https", lookup)
                    .map(Backend::Pushgateway)
            }
            #[cfg(feature = "otlp")]
            "otlp+http" | "otlp+https" | "otlp+grpc" | "otlp+grpcs" => {
                crate::backend::otlp::from_env::config_from_url(text, lookup).map(Backend::Otlp)
            }
            #[cfg(feature = "statsd")]
            "statsd" | "statsd+udp" | "statsd+tcp" | "statsd+tls" | "statsd+unix" | "statsd+unixgram" => {
                crate::backend::statsd::config_from_url(&url, &scheme, lookup).map(Backend::Statsd)
            }
            other => match FEATURE_SCHEMES.iter().find(|(s, _)| *s == other) {
                Some((_, feature)) => Err(ConfigError::Invalid {
                    setting: "backend",
                    reason: format!("the {other}:// backend is not in this build; did you forget to enable the `{feature}` cargo feature?"),
                }),
                None => Err(ConfigError::UnknownScheme { scheme: other.to_owned(), accepted: ACCEPTED_SCHEMES }),
            },
        }
    }

    /// Reads [`ENV_BACKEND`]; `Ok(None)` when it is unset or empty.
    ///
    /// # Errors
    /// As [`Self::from_url`], naming the variable.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// Like [`Self::from_env`], reading variables through `lookup` (for tests).
    ///
    /// # Errors
    /// As [`Self::from_url`], naming the variable.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        match lookup(ENV_BACKEND) {
            Some(v) if !v.trim().is_empty() => {
                // The backend's own variables come through the same `lookup`.
                // An error that already names its variable (one the backend read) is kept.
                Self::from_url_with(&v, &lookup).map(Some).map_err(|e| match e {
                    e @ ConfigError::Env { .. } => e,
                    e => ConfigError::Env { var: ENV_BACKEND, reason: e.to_string() },
                })
            }
            _ => Ok(None),
        }
    }
}

fn invalid(reason: &str) -> ConfigError {
    invalid_url(reason.to_owned())
}

/// A URL error that lists the accepted forms.
#[cfg_attr(not(any(feature = "prometheus", feature = "pushgateway", feature = "statsd")), allow(dead_code))]
pub(crate) fn invalid_url(reason: String) -> ConfigError {
    ConfigError::InvalidUrl { reason, accepted: ACCEPTED_SCHEMES }
}

/// Refuses a URL that carries a user, a password or a query: secrets come from files named
/// by environment variables (`hint` names them), never from a URL that may end up in a log.
#[cfg_attr(not(any(feature = "prometheus", feature = "pushgateway", feature = "statsd")), allow(dead_code))]
pub(crate) fn refuse_secrets_in_url(url: &crate::backend::url::BackendUrl<'_>, hint: &str) -> Result<(), ConfigError> {
    if url.has_userinfo_or_query() {
        return Err(invalid_url(format!("{}:// takes no user, password or query: {hint}", url.scheme())));
    }
    Ok(())
}

/// Wraps an error as one about environment variable `var`.
#[cfg_attr(not(any(feature = "prometheus", feature = "pushgateway", feature = "statsd")), allow(dead_code))]
pub(crate) fn env_error(var: &'static str) -> impl Fn(ConfigError) -> ConfigError {
    move |e| ConfigError::Env { var, reason: e.to_string() }
}

impl FromStr for Backend {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_url(s)
    }
}
