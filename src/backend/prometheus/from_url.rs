//! `prometheus://HOST:PORT/path` and `prometheus+tls://…`, with auth and TLS files named by
//! environment variables. Secrets never come from the URL itself.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use super::config::{PrometheusBuilder, PrometheusConfig, DEFAULT_PORT};
use crate::error::ConfigError;

/// PEM certificate chain for `prometheus+tls://`.
pub const ENV_TLS_CERT: &str = "CODOMYRMEX_METRICS_TLS_CERT";
/// PEM private key for `prometheus+tls://` (mode 600).
pub const ENV_TLS_KEY: &str = "CODOMYRMEX_METRICS_TLS_KEY";
/// PEM CA whose client certificates are required (mTLS).
pub const ENV_TLS_CLIENT_CA: &str = "CODOMYRMEX_METRICS_TLS_CLIENT_CA";
/// Comma-separated DNS names a client certificate must be valid for.
pub const ENV_TLS_CLIENT_NAMES: &str = "CODOMYRMEX_METRICS_TLS_CLIENT_NAMES";
/// File of `user:bcrypt-hash` lines for Basic auth (mode 600).
pub const ENV_BASIC_AUTH_FILE: &str = "CODOMYRMEX_METRICS_BASIC_AUTH_FILE";
/// File holding a bearer token (mode 600).
pub const ENV_BEARER_TOKEN_FILE: &str = "CODOMYRMEX_METRICS_BEARER_TOKEN_FILE";
/// Comma-separated addresses or CIDR networks allowed to scrape.
pub const ENV_ALLOW_CIDRS: &str = "CODOMYRMEX_METRICS_ALLOW_CIDRS";
/// Comma-separated Host header values answered (see `PrometheusBuilder::allowed_hosts`).
pub const ENV_ALLOWED_HOSTS: &str = "CODOMYRMEX_METRICS_ALLOWED_HOSTS";
/// `true` to allow a public address without auth or TLS.
pub const ENV_ALLOW_PUBLIC_BIND: &str = "CODOMYRMEX_METRICS_ALLOW_UNAUTHENTICATED_PUBLIC_BIND";

use crate::backend::config::{env_error as env_err, invalid_url as invalid, refuse_secrets_in_url};
use crate::backend::url::{BackendUrl, Host};

pub(crate) fn config_from_url(
    url: &BackendUrl<'_>,
    tls: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PrometheusConfig, ConfigError> {
    refuse_secrets_in_url(
        url,
        &format!("give secrets in files named by {ENV_BASIC_AUTH_FILE} or {ENV_BEARER_TOKEN_FILE}"),
    )?;
    let ip = match url.host()? {
        Some(Host::Ip(ip)) => ip,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(Host::Name(d)) if d == "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(Host::Name(d)) => {
            return Err(invalid(format!("{d:?} is not an IP address; the endpoint binds an address such as 127.0.0.1")))
        }
    };
    let addr = SocketAddr::new(ip, url.port()?.unwrap_or(DEFAULT_PORT));
    let mut b: PrometheusBuilder = PrometheusConfig::builder().listen(addr);
    if !matches!(url.path(), "" | "/") {
        b = b.path(url.path())?;
    }
    let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    if let Some(f) = get(ENV_BASIC_AUTH_FILE) {
        b = b.basic_auth_file(Path::new(f.trim())).map_err(env_err(ENV_BASIC_AUTH_FILE))?;
    }
    if let Some(f) = get(ENV_BEARER_TOKEN_FILE) {
        b = b.bearer_token_file(Path::new(f.trim())).map_err(env_err(ENV_BEARER_TOKEN_FILE))?;
    }
    if let Some(list) = get(ENV_ALLOW_CIDRS) {
        b = b.allow_cidrs(list.split(',').filter(|s| !s.trim().is_empty())).map_err(env_err(ENV_ALLOW_CIDRS))?;
    }
    if let Some(list) = get(ENV_ALLOWED_HOSTS) {
        b = b
            .allowed_hosts(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
            .map_err(env_err(ENV_ALLOWED_HOSTS))?;
    }
    if let Some(v) = get(ENV_ALLOW_PUBLIC_BIND) {
        b = b.allow_unauthenticated_public_bind(v.trim().eq_ignore_ascii_case("true"));
    }
    if tls {
        b = with_tls(b, &get)?;
    }
    b.build()
}

#[cfg(feature = "tls")]
fn with_tls(b: PrometheusBuilder, get: &dyn Fn(&str) -> Option<String>) -> Result<PrometheusBuilder, ConfigError> {
    let need = |var: &'static str| {
        get(var).ok_or_else(|| ConfigError::Env { var, reason: "prometheus+tls:// needs it set to a PEM file".into() })
    };
    let mut b = b.tls(need(ENV_TLS_CERT)?.trim(), need(ENV_TLS_KEY)?.trim());
    if let Some(ca) = get(ENV_TLS_CLIENT_CA) {
        b = b.client_ca(ca.trim());
    }
    if let Some(names) = get(ENV_TLS_CLIENT_NAMES) {
        b = b.allowed_client_names(names.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
    }
    Ok(b)
}

#[cfg(not(feature = "tls"))]
fn with_tls(_: PrometheusBuilder, _: &dyn Fn(&str) -> Option<String>) -> Result<PrometheusBuilder, ConfigError> {
    Err(ConfigError::Invalid {
        setting: "backend",
        reason: "prometheus+tls:// needs TLS; did you forget to enable the `tls` cargo feature?".into(),
    })
}
