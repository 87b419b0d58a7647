//! The `Metrics` handle that `get_metrics` returns, whatever the backend.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::config::*;
use super::push_worker::PushWorker;
use crate::error::ConfigError;
use crate::export::{Exporter, ExporterError, Format, PullExporter};
use crate::facade::FacadeRecorder;
use crate::policy::Policy;
use crate::registry::{Registry, RegistryBuilder};

enum Running {
    Pull(Box<dyn PullExporter>),
    Push(PushWorker),
}

struct Inner {
    registry: Registry,
    running: Mutex<Vec<Running>>,
    shut_down: AtomicBool,
}

/// The handle every backend returns: the registry plus the running exporters. Cloning is
/// cheap and every clone is the same handle. It dereferences to its [`Registry`].
///
/// ```
/// use codomyrmex_metrics::{get_metrics, Backend, Format};
/// let metrics = get_metrics(Backend::InMemory).unwrap();
/// metrics.counter("started", "Process starts.").unwrap().inc();
/// assert!(metrics.render(Format::PrometheusText).contains("started_total 1"));
/// metrics.shutdown().unwrap();
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("registry", &self.inner.registry).finish_non_exhaustive()
    }
}

impl std::ops::Deref for Metrics {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.inner.registry
    }
}

/// Builds [`Metrics`] for a backend with the default registry.
///
/// # Errors
/// [`ConfigError`] when an exporter cannot start.
pub fn get_metrics(backend: Backend) -> Result<Metrics, ConfigError> {
    MetricsBuilder::new(backend).build()
}

/// Builds [`Metrics`]: a backend and the registry settings.
#[derive(Debug)]
pub struct MetricsBuilder {
    backend: Backend,
    registry: RegistryBuilder,
}

impl MetricsBuilder {
    /// A builder for `backend` with the default registry.
    pub fn new(backend: Backend) -> Self {
        Self { backend, registry: RegistryBuilder::default() }
    }

    /// Everything from the environment: [`ENV_BACKEND`] (default `memory://`), [`ENV_PREFIX`],
    /// [`ENV_GLOBAL_LABELS`], [`ENV_MAX_SERIES_PER_METRIC`], [`ENV_MAX_SERIES_TOTAL`], and the
    /// backends' own variables.
    ///
    /// # Errors
    /// [`ConfigError::Env`] naming the variable that is wrong; [`ConfigError::Invalid`] for a
    /// `CODOMYRMEX_METRICS_*` variable the crate does not read (a typo), naming the closest one
    /// and listing them all ([`crate::KNOWN_ENV_VARS`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_vars(
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Like [`Self::from_env`], from these `(name, value)` pairs instead of the process'
    /// environment (for tests, or a configuration read elsewhere).
    ///
    /// # Errors
    /// As [`Self::from_env`].
    pub fn from_env_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: std::collections::HashMap<String, String> =
            vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        if let Some((name, hint)) = super::env_vars::unknown(vars.keys().map(String::as_str)) {
            let hint = hint.map(|h| format!(" (did you mean {h}?)")).unwrap_or_default();
            return Err(ConfigError::Invalid {
                setting: "environment",
                reason: format!(
                    "{name} is not a variable this crate reads{hint}; accepted: {}",
                    super::env_vars::KNOWN_ENV_VARS.join(", ")
                ),
            });
        }
        Self::from_env_with(|k| vars.get(k).cloned())
    }

    /// Like [`Self::from_env`], reading variables through `lookup` (which cannot be listed, so
    /// misspelled names go unnoticed here; see [`Self::from_env_vars`]).
    ///
    /// # Errors
    /// As [`Self::from_env`], but for unknown names.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let backend = Backend::from_env_with(&lookup)?.unwrap_or(Backend::InMemory);
        let mut policy = Policy::default();
        let number = |var: &'static str| -> Result<Option<usize>, ConfigError> {
            lookup(var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.trim().parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::Env {
                        var,
                        reason: "expected a whole number greater than 0".into(),
                    })
                })
                .transpose()
        };
        if let Some(n) = number(ENV_MAX_SERIES_PER_METRIC)? {
            policy = policy.with_max_series_per_metric(n);
        }
        if let Some(n) = number(ENV_MAX_SERIES_TOTAL)? {
            policy = policy.with_max_series_total(n);
        }
        let env_err = |var: &'static str| move |e: ConfigError| ConfigError::Env { var, reason: e.to_string() };
        let mut registry = RegistryBuilder::default().policy(policy);
        if let Some(prefix) = lookup(ENV_PREFIX).filter(|v| !v.trim().is_empty()) {
            registry = registry.prefix(prefix.trim()).map_err(env_err(ENV_PREFIX))?;
        }
        if let Some(labels) = lookup(ENV_GLOBAL_LABELS).filter(|v| !v.trim().is_empty()) {
            for pair in labels.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, v) = pair.split_once('=').ok_or_else(|| ConfigError::Env {
                    var: ENV_GLOBAL_LABELS,
                    reason: "expected key=value pairs separated by commas".into(),
                })?;
                registry = registry.global_label(k.trim(), v.trim()).map_err(env_err(ENV_GLOBAL_LABELS))?;
            }
        }
        Ok(Self { backend, registry })
    }

    /// Replaces the registry settings.
    #[must_use]
    pub fn registry(mut self, registry: RegistryBuilder) -> Self {
        self.registry = registry;
        self
    }

    /// Builds the registry and starts the backend's exporters.
    ///
    /// # Errors
    /// [`ConfigError::Exporter`] when an exporter cannot start; those already started are stopped.
    pub fn build(self) -> Result<Metrics, ConfigError> {
        let noop = matches!(self.backend, Backend::Noop);
        // Backends become exporters first, so those that want single events bring their
        // observers to the registry before any series exists.
        let backend = prepare(self.backend)?;
        let mut registry = self.registry;
        for observer in observers(&backend) {
            registry = registry.observer(observer);
        }
        let registry = registry.disabled(noop).build();
        let metrics = Metrics {
            inner: Arc::new(Inner { registry, running: Mutex::new(Vec::new()), shut_down: AtomicBool::new(false) }),
        };
        if let Err(e) = metrics.start(backend) {
            let _ = metrics.shutdown();
            return Err(e);
        }
        Ok(metrics)
    }
}

/// Turns each backend whose exporter brings an observer into that exporter (StatsD, OTLP).
fn prepare(backend: Backend) -> Result<Backend, ConfigError> {
    match backend {
        #[cfg(feature = "otlp")]
        Backend::Otlp(config) => {
            let exporter = crate::backend::otlp::OtlpExporter::new(config)?;
            Ok(Backend::Custom(Exporter::Push(Box::new(exporter))))
        }
        #[cfg(feature = "statsd")]
        Backend::Statsd(config) => {
            let exporter = crate::backend::statsd::StatsdExporter::new(config)?;
            Ok(Backend::Custom(Exporter::Pull(Box::new(exporter))))
        }
        Backend::Multi(all) => all.into_iter().map(prepare).collect::<Result<Vec<_>, _>>().map(Backend::Multi),
        other => Ok(other),
    }
}

/// The observers of every exporter in `backend`, in order.
fn observers(backend: &Backend) -> Vec<Arc<dyn crate::SeriesObserver>> {
    match backend {
        Backend::Custom(Exporter::Pull(e)) => e.observer().into_iter().collect(),
        Backend::Custom(Exporter::Push(e)) => e.observer().into_iter().collect(),
        Backend::Multi(all) => all.iter().flat_map(observers).collect(),
        _ => Vec::new(),
    }
}

impl Metrics {
    fn start(&self, backend: Backend) -> Result<(), ConfigError> {
        match backend {
            Backend::InMemory | Backend::Noop => Ok(()),
            #[cfg(feature = "otlp")]
            Backend::Otlp(config) => Err(ConfigError::Invalid {
                setting: "backend",
                reason: format!("OTLP backend {} reached start unprepared", config.endpoint()),
            }),
            #[cfg(feature = "statsd")]
            Backend::Statsd(config) => Err(ConfigError::Invalid {
                setting: "backend",
                reason: format!("StatsD backend {:?} reached start unprepared", config.transport()),
            }),
            Backend::Multi(all) => all.into_iter().try_for_each(|b| self.start(b)),
            #[cfg(feature = "prometheus")]
            Backend::Prometheus(config) => {
                let exporter = crate::backend::prometheus::PrometheusExporter::new(config);
                self.start(Backend::Custom(Exporter::Pull(Box::new(exporter))))
            }
            #[cfg(feature = "pushgateway")]
            Backend::Pushgateway(config) => {
                let exporter = crate::backend::pushgateway::PushgatewayExporter::new(config)?;
                self.inner.registry.self_metrics().register_own::<crate::backend::pushgateway::PushEvent>();
                self.start(Backend::Custom(Exporter::Push(Box::new(exporter))))
            }
            Backend::Custom(Exporter::Pull(mut e)) => {
                e.start(self.inner.registry.clone()).map_err(|err| match err {
                    // Already "exporter X failed to start": said once, not wrapped again.
                    ExporterError::Start { exporter, source } => ConfigError::Exporter { name: exporter, source },
                    other => ConfigError::Exporter { name: e.name().to_owned(), source: Box::new(other) },
                })?;
                self.inner.running.lock().push(Running::Pull(e));
                Ok(())
            }
            Backend::Custom(Exporter::Push(e)) => {
                let name = e.name().to_owned();
                let worker = PushWorker::spawn(e, self.inner.registry.clone())
                    .map_err(|source| ConfigError::Exporter { name, source: Box::new(source) })?;
                self.inner.running.lock().push(Running::Push(worker));
                Ok(())
            }
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// A `metrics` facade recorder feeding this registry, for `metrics::with_local_recorder`
    /// or [`metrics::set_global_recorder`].
    pub fn recorder(&self) -> FacadeRecorder {
        FacadeRecorder::new(self.inner.registry.clone())
    }

    /// Installs this registry as the process-wide `metrics` recorder.
    ///
    /// # Errors
    /// When a global recorder is installed already.
    pub fn install_recorder(&self) -> Result<(), metrics::SetRecorderError<FacadeRecorder>> {
        metrics::set_global_recorder(self.recorder())
    }

    /// The addresses the running exporters listen on (the scrape endpoint's, with the port
    /// the system chose when it was configured with port 0), in the order they started.
    ///
    /// ```
    /// use codomyrmex_metrics::{get_metrics, Backend};
    /// let metrics = get_metrics(Backend::InMemory).unwrap();
    /// assert!(metrics.local_addrs().is_empty()); // nothing listens
    /// ```
    pub fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.inner
            .running
            .lock()
            .iter()
            .filter_map(|r| match r {
                Running::Pull(e) => e.local_addr(),
                Running::Push(_) => None,
            })
            .collect()
    }

    /// Renders the registry in `format` (what a scrape would return).
    pub fn render(&self, format: Format) -> String {
        self.inner.registry.render(format)
    }

    /// Stops every exporter: push exporters push one last time (within their shutdown budget,
    /// 5 s by default), the scrape endpoint lets open requests finish (up to 5 s). Safe to call
    /// more than once; later calls do nothing. Handles keep working and record into the registry.
    ///
    /// It blocks while exporters finish; from async code, prefer `spawn_blocking`. On a
    /// current-thread runtime the scrape endpoint is only signalled, and stops at the caller's
    /// next `.await`.
    ///
    /// # Errors
    /// The first exporter error; every exporter is still asked to stop.
    pub fn shutdown(&self) -> Result<(), ExporterError> {
        if self.inner.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let running = std::mem::take(&mut *self.inner.running.lock());
        let mut first = Ok(());
        for r in running {
            let result = match r {
                Running::Pull(mut e) => e.shutdown(),
                Running::Push(mut w) => w.shutdown(),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "exporter shutdown failed");
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}
