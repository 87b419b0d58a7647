//! The Pushgateway client (feature `pushgateway`; HTTPS with feature `tls`), for jobs that end
//! before anyone could scrape them. It pushes text 0.0.4 on an interval from its own worker
//! thread, and once more at shutdown (or DELETEs the group, if asked); a failed push is retried
//! with exponential backoff and jitter. The caller never waits for the network.

mod client;
mod config;
mod events;
pub(crate) mod from_url;
mod grouping;

use crate::backend::outbound::breaker::{Admit, Breaker, Transition};
use crate::backend::retry::{jitter, next_backoff};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;

pub use client::PushError;
pub use config::{PushMethod, PushgatewayBuilder, PushgatewayConfig};
pub use events::PushEvent;
pub use from_url::{
    ENV_PUSH_BEARER_TOKEN_FILE, ENV_PUSH_CA_FILE, ENV_PUSH_CLIENT_CERT, ENV_PUSH_CLIENT_KEY, ENV_PUSH_INTERVAL_SECONDS,
    ENV_PUSH_PASSWORD_FILE, ENV_PUSH_PIN_SHA256, ENV_PUSH_PROXY_PASSWORD_FILE, ENV_PUSH_PROXY_USER, ENV_PUSH_USER,
};

use crate::export::{ExporterError, Format, PushExporter};
use crate::registry::Registry;

/// Pushes a registry to a Pushgateway (what `Backend::Pushgateway` runs).
pub struct PushgatewayExporter {
    config: PushgatewayConfig,
    client: client::Client,
    breaker: Breaker,
    path: String,
    body: String,
    /// Made on the worker thread at the first push.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for PushgatewayExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushgatewayExporter").field("path", &self.path).finish_non_exhaustive()
    }
}

impl PushgatewayExporter {
    /// An exporter for `config`.
    ///
    /// # Errors
    /// The TLS settings cannot be used (unreadable CA file, no trusted roots).
    pub fn new(config: PushgatewayConfig) -> Result<Self, crate::ConfigError> {
        Ok(Self {
            client: client::Client::new(&config)?,
            breaker: Breaker::new(config.breaker),
            path: grouping::group_path(&config.job, &config.grouping),
            config,
            body: String::new(),
            runtime: None,
        })
    }

    fn method(&self) -> Method {
        match self.config.method {
            PushMethod::Put => Method::PUT,
            PushMethod::Post => Method::POST,
        }
    }

    /// Sends once, retrying retryable failures with backoff and jitter within `budget`, as
    /// the circuit breaker allows (`last`: the push at shutdown, tried whatever its state).
    fn deliver(
        &mut self,
        registry: &Registry,
        method: Method,
        budget: Duration,
        last: bool,
    ) -> Result<(), ExporterError> {
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| ExporterError::Push {
            exporter: "pushgateway".into(),
            source,
        };
        let body = if method == Method::DELETE {
            Bytes::new()
        } else {
            registry.render_into(Format::PrometheusText, &mut self.body);
            Bytes::copy_from_slice(self.body.as_bytes())
        };
        if self.runtime.is_none() {
            let rt =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| fail(Box::new(e)))?;
            self.runtime = Some(rt);
        }
        let Some(rt) = &self.runtime else { return Ok(()) };
        let deadline = Instant::now() + budget;
        let mut delay = self.config.initial_backoff;
        let events = registry.self_metrics().register_own::<PushEvent>();
        loop {
            if !last && self.breaker.admit(Instant::now()) == Admit::Refuse {
                events.record(PushEvent::SkippedCircuitOpen);
                tracing::debug!("push skipped: the circuit breaker is open");
                return Ok(());
            }
            let result = rt.block_on(self.client.send(&self.config, method.clone(), &self.path, body.clone()));
            self.count_outcome(registry, &result);
            match result {
                Ok(_) => {
                    events.record(if method == Method::DELETE { PushEvent::Deleted } else { PushEvent::Sent });
                    return Ok(());
                }
                Err(e) if self.breaker.is_open() && !last => {
                    events.record(PushEvent::Failed);
                    return Err(fail(Box::new(e)));
                }
                Err(e) if e.is_retryable() && Instant::now() + delay < deadline => {
                    events.record(PushEvent::Retried);
                    tracing::debug!(error = %e, retry_in = ?delay, "push failed; retrying");
                    std::thread::sleep(jitter(delay));
                    delay = next_backoff(delay, self.config.max_backoff);
                }
                Err(e) => {
                    events.record(PushEvent::Failed);
                    return Err(fail(Box::new(e)));
                }
            }
        }
    }
}

impl PushgatewayExporter {
    /// Feeds one request's outcome to the breaker, and counts what it changes.
    fn count_outcome(&self, registry: &Registry, result: &Result<hyper::StatusCode, PushError>) {
        let events = registry.self_metrics().register_own::<PushEvent>();
        if let Err(PushError::PinMismatch) = result {
            events.record(PushEvent::PinMismatch);
        }
        let outcome = result.as_ref().map(|_| ()).map_err(PushError::is_outage);
        self.breaker.observe(outcome, "pushgateway", |t| {
            events.record(match t {
                Transition::Opened => PushEvent::CircuitOpened,
                Transition::Closed => PushEvent::CircuitClosed,
            })
        });
    }
}

impl PushExporter for PushgatewayExporter {
    fn name(&self) -> &str {
        "pushgateway"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn push(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        let method = self.method();
        self.deliver(registry, method, self.config.interval, false)
    }

    fn shutdown(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        let method = if self.config.delete_on_shutdown { Method::DELETE } else { self.method() };
        self.deliver(registry, method, self.config.shutdown_budget, true)
    }
}
