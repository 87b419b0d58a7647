//! The TLS connector of the StatsD stream sink: the server's certificate and host name are
//! verified (against the system's roots or the given CA); a client certificate is optional.

use rustls_pki_types::ServerName;

use super::config::StatsdConfig;
use super::stream::Connector;
use crate::backend::tls_client::client_config;
use crate::error::ConfigError;

/// The connector for `addr` (`HOST:PORT`).
pub(crate) fn connector(addr: &str, c: &StatsdConfig) -> Result<Connector, ConfigError> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_matches(['[', ']']);
    let name = c.server_name.as_deref().unwrap_or(host);
    let name = ServerName::try_from(name.to_owned()).map_err(|_| ConfigError::Invalid {
        setting: "statsd server_name",
        reason: format!("{name:?} is not a host name or address"),
    })?;
    let config = client_config("statsd tls", c.ca_file.as_deref(), c.client_cert.as_ref(), c.secret_files, &c.pins)?;
    Ok(Connector::Tls { addr: addr.to_owned(), name, config })
}
