//! What every outbound client shares (Pushgateway, StatsD streams, and any added later): the
//! circuit breaker, the allowlist of backend hosts and certificate pinning.

pub(crate) mod breaker;
pub(crate) mod hosts;
#[cfg(feature = "tls")]
pub(crate) mod pin;

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
