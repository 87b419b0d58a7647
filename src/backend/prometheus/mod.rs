//! The Prometheus scrape endpoint (feature `prometheus`; HTTPS with feature `tls`).
//! Secure by default: loopback only, and a public address needs auth or TLS. See
//! `docs/security.md` for every setting.

mod access;
mod auth;
mod config;
mod events;
pub(crate) mod from_url;
mod handler;
mod host;
mod per_client;
mod render_cache;
mod server;
#[cfg(feature = "tls")]
mod tls;
mod write_deadline;

use std::net::SocketAddr;

#[cfg(feature = "tls")]
pub use config::TlsSettings;
pub use config::{
    PrometheusBuilder, PrometheusConfig, RateLimit, DEFAULT_PORT, MIN_PASSWORD_LEN, MIN_TOKEN_LEN, PLAIN_PASSWORD_MARK,
};
pub use events::ScrapeEvent;
pub use from_url::{
    ENV_ALLOWED_HOSTS, ENV_ALLOW_CIDRS, ENV_ALLOW_PUBLIC_BIND, ENV_BASIC_AUTH_FILE, ENV_BEARER_TOKEN_FILE,
    ENV_TLS_CERT, ENV_TLS_CLIENT_CA, ENV_TLS_CLIENT_NAMES, ENV_TLS_KEY,
};
pub use handler::ScrapeHandler;

use crate::export::{ExporterError, PullExporter};
use crate::registry::Registry;

/// The built-in scrape server as a [`PullExporter`] (what `Backend::Prometheus` starts).
#[derive(Debug)]
pub struct PrometheusExporter {
    config: Option<PrometheusConfig>,
    server: Option<server::Server>,
}

impl std::fmt::Debug for server::Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("local_addr", &self.local_addr()).finish_non_exhaustive()
    }
}

impl PrometheusExporter {
    /// An exporter that will serve with `config` when started.
    pub fn new(config: PrometheusConfig) -> Self {
        Self { config: Some(config), server: None }
    }

    /// The address it serves on, once started.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(server::Server::local_addr)
    }
}

impl PullExporter for PrometheusExporter {
    fn name(&self) -> &str {
        "prometheus"
    }

    fn start(&mut self, registry: Registry) -> Result<(), ExporterError> {
        let config = self.config.take().ok_or_else(|| ExporterError::Start {
            exporter: "prometheus".into(),
            source: "the exporter was started already".into(),
        })?;
        let server = server::Server::start(config, registry).map_err(|e| ExporterError::Start {
            exporter: "prometheus".into(),
            source: match e {
                // The server's own start error already names the exporter: keep only its cause.
                crate::ConfigError::Exporter { source, .. } => source,
                other => Box::new(other),
            },
        })?;
        self.server = Some(server);
        Ok(())
    }

    fn shutdown(&mut self) -> Result<(), ExporterError> {
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
        Ok(())
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        PrometheusExporter::local_addr(self)
    }
}
