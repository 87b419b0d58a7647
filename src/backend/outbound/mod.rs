//! What every outbound client shares (Pushgateway, StatsD streams, OTLP): the circuit
//! breaker, the allowlist of backend hosts and certificate pinning; and, for the HTTP ones,
//! the request itself and forward proxies.

pub(crate) mod breaker;
pub(crate) mod hosts;
#[cfg(feature = "_http-client")]
pub(crate) mod http;
#[cfg(feature = "tls")]
pub(crate) mod pin;
#[cfg(feature = "_http-client")]
pub(crate) mod proxy;

pub use breaker::CircuitBreaker;

/// Comma-separated backend hosts metrics may go to (names, `*.suffix`, IP addresses); a
/// backend URL naming another host is an error. Read by every outbound backend.
pub const ENV_ALLOWED_BACKEND_HOSTS: &str = "CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS";

/// The entries of a comma-separated list variable, trimmed, empty ones left out.
pub(crate) fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The entries of [`ENV_ALLOWED_BACKEND_HOSTS`], checked, with `host` (a backend URL's)
/// among them; errors name the variable.
pub(crate) fn env_allowed_hosts(value: &str, host: &str) -> Result<Vec<String>, crate::ConfigError> {
    let env_err = |e: crate::ConfigError| crate::ConfigError::Env {
        var: ENV_ALLOWED_BACKEND_HOSTS,
        reason: match e {
            crate::ConfigError::Invalid { reason, .. } => reason,
            other => other.to_string(),
        },
    };
    let entries = list(value);
    hosts::AllowedHosts::parse("allowed_hosts", &entries).map_err(env_err)?.check("backend", host).map_err(env_err)?;
    Ok(entries)
}

/// A client certificate and key named by a pair of variables: both, or neither.
#[cfg(any(feature = "pushgateway", feature = "statsd"))]
pub(crate) fn env_client_cert(
    get: &dyn Fn(&str) -> Option<String>,
    cert_var: &'static str,
    key_var: &'static str,
) -> Result<Option<(String, String)>, crate::ConfigError> {
    let needs = |var: &'static str, other: &str| crate::ConfigError::Env { var, reason: format!("{other} needs it") };
    match (get(cert_var), get(key_var)) {
        (Some(c), Some(k)) => Ok(Some((c.trim().to_owned(), k.trim().to_owned()))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(needs(key_var, cert_var)),
        (None, Some(_)) => Err(needs(cert_var, key_var)),
    }
}

/// The pins of a comma-separated variable; an error naming it when the build has no TLS.
pub(crate) fn env_pins(var: &'static str, value: &str) -> Result<Vec<String>, crate::ConfigError> {
    if !cfg!(feature = "tls") {
        return Err(crate::ConfigError::Env { var, reason: "pinning needs the `tls` feature".into() });
    }
    Ok(list(value))
}
