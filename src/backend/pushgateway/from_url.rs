//! `pushgateway://HOST:PORT/job/NAME[/LABEL/VALUE…]` (HTTP) and `pushgateway+https://…`, with
//! the interval and credentials from environment variables. Secrets never come from the URL.

use std::path::Path;
use std::time::Duration;

use super::config::{PushgatewayBuilder, PushgatewayConfig};
use crate::error::ConfigError;

/// Seconds between pushes.
pub const ENV_PUSH_INTERVAL_SECONDS: &str = "CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS";
/// Basic-auth user name (the password comes from [`ENV_PUSH_PASSWORD_FILE`]).
pub const ENV_PUSH_USER: &str = "CODOMYRMEX_METRICS_PUSH_USER";
/// File holding the Basic-auth password (mode 600).
pub const ENV_PUSH_PASSWORD_FILE: &str = "CODOMYRMEX_METRICS_PUSH_PASSWORD_FILE";
/// File holding a bearer token (mode 600).
pub const ENV_PUSH_BEARER_TOKEN_FILE: &str = "CODOMYRMEX_METRICS_PUSH_BEARER_TOKEN_FILE";
/// PEM CA to verify the gateway with, instead of the system's roots.
pub const ENV_PUSH_CA_FILE: &str = "CODOMYRMEX_METRICS_PUSH_CA_FILE";
/// PEM client certificate chain for mutual TLS (with [`ENV_PUSH_CLIENT_KEY`]).
pub const ENV_PUSH_CLIENT_CERT: &str = "CODOMYRMEX_METRICS_PUSH_CLIENT_CERT";
/// PEM client key for mutual TLS (mode 600).
pub const ENV_PUSH_CLIENT_KEY: &str = "CODOMYRMEX_METRICS_PUSH_CLIENT_KEY";
/// Comma-separated SHA-256 SPKI pins (base64) the gateway's key must match (feature `tls`).
pub const ENV_PUSH_PIN_SHA256: &str = "CODOMYRMEX_METRICS_PUSH_PIN_SHA256";
/// Proxy user name (the password comes from [`ENV_PUSH_PROXY_PASSWORD_FILE`]); the proxy
/// itself comes from `http_proxy` / `https_proxy` / `all_proxy` / `no_proxy`.
pub const ENV_PUSH_PROXY_USER: &str = "CODOMYRMEX_METRICS_PUSH_PROXY_USER";
/// File holding the proxy password (mode 600).
pub const ENV_PUSH_PROXY_PASSWORD_FILE: &str = "CODOMYRMEX_METRICS_PUSH_PROXY_PASSWORD_FILE";

use crate::backend::config::{env_error as env_err, invalid_url as invalid, refuse_secrets_in_url};
use crate::backend::outbound::{env_allowed_hosts, env_client_cert, env_pins, ENV_ALLOWED_BACKEND_HOSTS};
use crate::backend::url::BackendUrl;

pub(crate) fn config_from_url(
    url: &BackendUrl<'_>,
    https: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PushgatewayConfig, ConfigError> {
    refuse_secrets_in_url(
        url,
        &format!("give credentials with {ENV_PUSH_USER}/{ENV_PUSH_PASSWORD_FILE} or {ENV_PUSH_BEARER_TOKEN_FILE}"),
    )?;
    let host = url.host()?.ok_or_else(|| invalid("no host".into()))?.to_authority();
    let segments = url.segments()?;
    let (Some("job"), Some(job)) = (segments.first().map(String::as_str), segments.get(1)) else {
        return Err(invalid(format!("expected {}://HOST:PORT/job/NAME[/LABEL/VALUE…]", url.scheme())));
    };
    if segments.len() % 2 != 0 {
        return Err(invalid("grouping labels come in LABEL/VALUE pairs".into()));
    }
    let scheme = if https { "https" } else { "http" };
    let port = url.port()?.map(|p| format!(":{p}")).unwrap_or_default();
    let mut b: PushgatewayBuilder = PushgatewayConfig::builder(&format!("{scheme}://{host}{port}"), job)?;
    for pair in segments[2..].chunks_exact(2) {
        b = b.grouping_label(&pair[0], &pair[1])?;
    }
    let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    if let Some(s) = get(ENV_PUSH_INTERVAL_SECONDS) {
        let secs: f64 = s.trim().parse().ok().filter(|v: &f64| *v > 0.0 && v.is_finite()).ok_or(ConfigError::Env {
            var: ENV_PUSH_INTERVAL_SECONDS,
            reason: "expected a number of seconds greater than 0".into(),
        })?;
        let interval = Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Env {
            var: ENV_PUSH_INTERVAL_SECONDS,
            reason: "expected a number of seconds a duration can hold".into(),
        })?;
        b = b.interval(interval);
    }
    if let Some(user) = get(ENV_PUSH_USER) {
        let file = get(ENV_PUSH_PASSWORD_FILE)
            .ok_or(ConfigError::Env { var: ENV_PUSH_PASSWORD_FILE, reason: format!("{ENV_PUSH_USER} needs it") })?;
        b = b.basic_auth_password_file(user.trim(), Path::new(file.trim())).map_err(env_err(ENV_PUSH_PASSWORD_FILE))?;
    }
    if let Some(file) = get(ENV_PUSH_BEARER_TOKEN_FILE) {
        b = b.bearer_token_file(Path::new(file.trim())).map_err(env_err(ENV_PUSH_BEARER_TOKEN_FILE))?;
    }
    if let Some(ca) = get(ENV_PUSH_CA_FILE) {
        b = b.ca_file(ca.trim());
    }
    if let Some((cert, key)) = env_client_cert(&get, ENV_PUSH_CLIENT_CERT, ENV_PUSH_CLIENT_KEY)? {
        b = b.client_cert(cert, key);
    }
    if let Some(pins) = get(ENV_PUSH_PIN_SHA256) {
        let _pins = env_pins(ENV_PUSH_PIN_SHA256, &pins)?;
        #[cfg(feature = "tls")]
        {
            b = b.pin_sha256(_pins);
        }
    }
    b = b.proxy_from(lookup);
    if let Some(user) = get(ENV_PUSH_PROXY_USER) {
        let file = get(ENV_PUSH_PROXY_PASSWORD_FILE).ok_or(ConfigError::Env {
            var: ENV_PUSH_PROXY_PASSWORD_FILE,
            reason: format!("{ENV_PUSH_PROXY_USER} needs it"),
        })?;
        b = b
            .proxy_password_file(user.trim(), Path::new(file.trim()))
            .map_err(env_err(ENV_PUSH_PROXY_PASSWORD_FILE))?;
    }
    if let Some(hosts) = get(ENV_ALLOWED_BACKEND_HOSTS) {
        b = b.allowed_hosts(env_allowed_hosts(&hosts, &host)?);
    }
    b.build()
}
