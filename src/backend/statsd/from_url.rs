//! `statsd://HOST:PORT` (UDP), `statsd+udp://`, `statsd+tcp://`, `statsd+tls://HOST:PORT`,
//! `statsd+unix:///PATH` (stream) and `statsd+unixgram:///PATH`, with every other setting from
//! environment variables (the URL takes no user, password or query).

use std::time::Duration;

use super::config::{Dialect, EtsyLabels, HistogramAs, StatsdBuilder, StatsdConfig, StatsdTransport};
use crate::backend::config::{env_error as env_err, invalid_url as invalid, refuse_secrets_in_url};
use crate::backend::outbound::{env_allowed_hosts, env_client_cert, env_pins, list, ENV_ALLOWED_BACKEND_HOSTS};
use crate::backend::url::BackendUrl;
use crate::error::ConfigError;

/// `etsy` (default), `dogstatsd` or `influx`.
pub const ENV_STATSD_DIALECT: &str = "CODOMYRMEX_METRICS_STATSD_DIALECT";
/// What the Etsy dialect does with labels: `fold` (default) or `drop`.
pub const ENV_STATSD_ETSY_LABELS: &str = "CODOMYRMEX_METRICS_STATSD_ETSY_LABELS";
/// A prefix for every name.
pub const ENV_STATSD_PREFIX: &str = "CODOMYRMEX_METRICS_STATSD_PREFIX";
/// Tags on every line: `key=value,key2=value2`.
pub const ENV_STATSD_TAGS: &str = "CODOMYRMEX_METRICS_STATSD_TAGS";
/// `true` (default: client-side aggregation) or `false` (immediate mode).
pub const ENV_STATSD_AGGREGATE: &str = "CODOMYRMEX_METRICS_STATSD_AGGREGATE";
/// Milliseconds between flushes \[1000\].
pub const ENV_STATSD_FLUSH_INTERVAL_MS: &str = "CODOMYRMEX_METRICS_STATSD_FLUSH_INTERVAL_MS";
/// Share of histogram samples sent, in (0, 1] \[1\].
pub const ENV_STATSD_SAMPLE_RATE: &str = "CODOMYRMEX_METRICS_STATSD_SAMPLE_RATE";
/// `auto` (default), `timer`, `histogram` or `distribution`.
pub const ENV_STATSD_HISTOGRAM_AS: &str = "CODOMYRMEX_METRICS_STATSD_HISTOGRAM_AS";
/// Largest payload in bytes [1432 UDP, 8192 otherwise].
pub const ENV_STATSD_MAX_PAYLOAD: &str = "CODOMYRMEX_METRICS_STATSD_MAX_PAYLOAD";
/// PEM CA to verify the TLS server with, instead of the system's roots.
pub const ENV_STATSD_CA_FILE: &str = "CODOMYRMEX_METRICS_STATSD_CA_FILE";
/// Comma-separated SHA-256 SPKI pins (base64) the server's key must match (feature `tls`).
pub const ENV_STATSD_PIN_SHA256: &str = "CODOMYRMEX_METRICS_STATSD_PIN_SHA256";
/// PEM client certificate chain for TLS (with [`ENV_STATSD_CLIENT_KEY`]).
pub const ENV_STATSD_CLIENT_CERT: &str = "CODOMYRMEX_METRICS_STATSD_CLIENT_CERT";
/// PEM client key for TLS (mode 600).
pub const ENV_STATSD_CLIENT_KEY: &str = "CODOMYRMEX_METRICS_STATSD_CLIENT_KEY";
/// The name the TLS server's certificate must carry [the URL's host].
pub const ENV_STATSD_SERVER_NAME: &str = "CODOMYRMEX_METRICS_STATSD_SERVER_NAME";

fn one_of<T: Copy>(var: &'static str, v: &str, options: &[(&str, T)]) -> Result<T, ConfigError> {
    let v = v.trim().to_ascii_lowercase();
    options.iter().find(|(name, _)| *name == v).map(|(_, t)| *t).ok_or_else(|| ConfigError::Env {
        var,
        reason: format!("expected one of {}", options.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
    })
}

fn number<T: std::str::FromStr>(var: &'static str, v: &str, what: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Env { var, reason: format!("expected {what}") })
}

/// The StatsD settings of a `statsd…://` URL and the environment.
pub(crate) fn config_from_url(
    url: &BackendUrl<'_>,
    scheme: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<StatsdConfig, ConfigError> {
    refuse_secrets_in_url(url, "StatsD settings come from the CODOMYRMEX_METRICS_STATSD_* environment variables")?;
    let addr = || -> Result<String, ConfigError> {
        let host = url.host()?.ok_or_else(|| invalid(format!("{scheme}:// needs HOST:PORT")))?;
        if !matches!(url.path(), "" | "/") {
            return Err(invalid(format!("{scheme}://HOST:PORT takes no path")));
        }
        Ok(format!("{}:{}", host.to_authority(), url.port()?.unwrap_or(8125)))
    };
    let path = || -> Result<std::path::PathBuf, ConfigError> {
        let decoded = url.decoded_path()?;
        if url.host()?.is_some() || decoded.len() <= 1 || !decoded.starts_with('/') {
            return Err(invalid(format!("expected {scheme}:///ABSOLUTE/PATH")));
        }
        Ok(std::path::PathBuf::from(decoded))
    };
    let transport = match scheme {
        "statsd" | "statsd+udp" => StatsdTransport::Udp(addr()?),
        "statsd+tcp" => StatsdTransport::Tcp(addr()?),
        "statsd+tls" => StatsdTransport::Tls(addr()?),
        "statsd+unix" => StatsdTransport::Unix(path()?),
        _ => StatsdTransport::Unixgram(path()?),
    };
    let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    let mut b: StatsdBuilder = StatsdConfig::builder(transport);
    if let Some(v) = get(ENV_STATSD_DIALECT) {
        let d = [("etsy", Dialect::Etsy), ("dogstatsd", Dialect::DogStatsd), ("influx", Dialect::Influx)];
        b = b.dialect(one_of(ENV_STATSD_DIALECT, &v, &d)?);
    }
    if let Some(v) = get(ENV_STATSD_ETSY_LABELS) {
        b = b.etsy_labels(one_of(
            ENV_STATSD_ETSY_LABELS,
            &v,
            &[("fold", EtsyLabels::Fold), ("drop", EtsyLabels::Drop)],
        )?);
    }
    if let Some(v) = get(ENV_STATSD_PREFIX) {
        b = b.prefix(v.trim()).map_err(env_err(ENV_STATSD_PREFIX))?;
    }
    if let Some(v) = get(ENV_STATSD_TAGS) {
        for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, val) = pair.split_once('=').ok_or(ConfigError::Env {
                var: ENV_STATSD_TAGS,
                reason: "expected key=value pairs separated by commas".into(),
            })?;
            b = b.tag(k.trim(), val.trim()).map_err(env_err(ENV_STATSD_TAGS))?;
        }
    }
    if let Some(v) = get(ENV_STATSD_AGGREGATE) {
        b = b.aggregate(one_of(
            ENV_STATSD_AGGREGATE,
            &v,
            &[("true", true), ("false", false), ("1", true), ("0", false)],
        )?);
    }
    if let Some(v) = get(ENV_STATSD_FLUSH_INTERVAL_MS) {
        let ms: u64 = number(ENV_STATSD_FLUSH_INTERVAL_MS, &v, "a whole number of milliseconds")?;
        b = b.flush_interval(Duration::from_millis(ms));
    }
    if let Some(v) = get(ENV_STATSD_SAMPLE_RATE) {
        let rate: f64 = number(ENV_STATSD_SAMPLE_RATE, &v, "a number in (0, 1]")?;
        b = b.sample_rate(rate).map_err(env_err(ENV_STATSD_SAMPLE_RATE))?;
    }
    if let Some(v) = get(ENV_STATSD_HISTOGRAM_AS) {
        let h = [
            ("auto", HistogramAs::Auto),
            ("timer", HistogramAs::Timer),
            ("histogram", HistogramAs::Histogram),
            ("distribution", HistogramAs::Distribution),
        ];
        b = b.histogram_as(one_of(ENV_STATSD_HISTOGRAM_AS, &v, &h)?);
    }
    if let Some(v) = get(ENV_STATSD_MAX_PAYLOAD) {
        let n: usize = number(ENV_STATSD_MAX_PAYLOAD, &v, "a whole number of bytes")?;
        b = b.max_payload(n).map_err(env_err(ENV_STATSD_MAX_PAYLOAD))?;
    }
    if let Some(v) = get(ENV_STATSD_CA_FILE) {
        b = b.ca_file(v.trim());
    }
    if let Some((cert, key)) = env_client_cert(&get, ENV_STATSD_CLIENT_CERT, ENV_STATSD_CLIENT_KEY)? {
        b = b.client_cert(cert, key);
    }
    if let Some(v) = get(ENV_STATSD_SERVER_NAME) {
        b = b.server_name(v.trim());
    }
    if let Some(pins) = get(ENV_STATSD_PIN_SHA256) {
        let _pins = env_pins(ENV_STATSD_PIN_SHA256, &pins)?;
        #[cfg(feature = "tls")]
        {
            b = b.pin_sha256(_pins);
        }
    }
    if let Some(hosts) = get(ENV_ALLOWED_BACKEND_HOSTS) {
        // A Unix socket is local: the list only constrains network addresses.
        let host = url.host()?.map(|h| h.to_authority());
        b = b.allowed_hosts(match host {
            Some(host) => env_allowed_hosts(&hosts, &host)?,
            None => list(&hosts),
        });
    }
    b.build()
}
