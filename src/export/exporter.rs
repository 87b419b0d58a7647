//! The traits a backend implements. A pull exporter serves renders on request (a scrape
//! endpoint); a push exporter is called on an interval and once more at shutdown.

use std::time::Duration;

use crate::registry::Registry;

/// What an exporter reports when it fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExporterError {
    /// The exporter could not start (bind, connect, configuration).
    #[error("exporter {exporter} failed to start: {source}")]
    Start {
        /// The exporter's name.
        exporter: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// One push failed; the exporter will try again on its next interval.
    #[error("exporter {exporter} failed to push: {source}")]
    Push {
        /// The exporter's name.
        exporter: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Shutting down failed or timed out.
    #[error("exporter {exporter} failed to shut down: {reason}")]
    Shutdown {
        /// The exporter's name.
        exporter: String,
        /// Why.
        reason: String,
    },
}

/// A backend that is asked for data: it gets the registry once and renders from it on demand.
pub trait PullExporter: Send + 'static {
    /// A short name for logs and errors.
    fn name(&self) -> &str;

    /// Starts serving `registry` (for example, binds a listener).
    ///
    /// # Errors
    /// [`ExporterError::Start`] when it cannot serve.
    fn start(&mut self, registry: Registry) -> Result<(), ExporterError>;

    /// Stops serving. Called once, by [`crate::Metrics::shutdown`].
    ///
    /// # Errors
    /// [`ExporterError::Shutdown`] when it could not stop cleanly.
    fn shutdown(&mut self) -> Result<(), ExporterError> {
        Ok(())
    }

    /// The address it listens on, if it listens (the scrape endpoint does) [`None`].
    fn local_addr(&self) -> Option<std::net::SocketAddr> {
        None
    }

    /// What receives single events, for a backend that wants them (see
    /// [`crate::SeriesObserver`]); `get_metrics` gives it to the registry before any series
    /// exists \[`None`\].
    fn observer(&self) -> Option<std::sync::Arc<dyn crate::SeriesObserver>> {
        None
    }
}

/// A backend that sends data: called on its interval from a worker thread, then once more at
/// shutdown so the last values are not lost.
pub trait PushExporter: Send + 'static {
    /// A short name for logs and errors.
    fn name(&self) -> &str;

    /// How often [`Self::push`] runs [10 s].
    fn interval(&self) -> Duration {
        Duration::from_secs(10)
    }

    /// Sends the registry's current state.
    ///
    /// # Errors
    /// [`ExporterError::Push`]; the worker logs it and tries again next interval.
    fn push(&mut self, registry: &Registry) -> Result<(), ExporterError>;

    /// The last push, at shutdown [calls [`Self::push`]].
    ///
    /// # Errors
    /// As [`Self::push`].
    fn shutdown(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        self.push(registry)
    }

    /// What receives single events, as [`PullExporter::observer`] \[`None`\].
    fn observer(&self) -> Option<std::sync::Arc<dyn crate::SeriesObserver>> {
        None
    }
}

/// A user-supplied backend, for [`crate::Backend::Custom`].
pub enum Exporter {
    /// Asked for data.
    Pull(Box<dyn PullExporter>),
    /// Sends data.
    Push(Box<dyn PushExporter>),
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pull(e) => write!(f, "Exporter::Pull({})", e.name()),
            Self::Push(e) => write!(f, "Exporter::Push({})", e.name()),
        }
    }
}
