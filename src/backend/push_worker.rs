//! Runs a push exporter on its interval in a worker thread, and once more at shutdown.

use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use crate::export::{ExporterError, PushExporter};
use crate::registry::Registry;

pub(crate) struct PushWorker {
    name: String,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<Result<(), ExporterError>>>,
}

impl PushWorker {
    pub(crate) fn spawn(mut exporter: Box<dyn PushExporter>, registry: Registry) -> std::io::Result<Self> {
        let name = exporter.name().to_owned();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name(format!("metrics-push-{name}")).spawn(move || {
            let interval = exporter.interval();
            loop {
                {
                    let (lock, cvar) = &*signal;
                    let mut stopped = lock.lock();
                    if !*stopped {
                        cvar.wait_for(&mut stopped, interval);
                    }
                    if *stopped {
                        break;
                    }
                }
                if let Err(e) = exporter.push(&registry) {
                    tracing::warn!(exporter = exporter.name(), error = %e, "push failed; retrying next interval");
                }
            }
            exporter.shutdown(&registry)
        })?;
        Ok(Self { name, stop, thread: Some(thread) })
    }

    pub(crate) fn shutdown(&mut self) -> Result<(), ExporterError> {
        {
            let (lock, cvar) = &*self.stop;
            *lock.lock() = true;
            cvar.notify_all();
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => {
                Err(ExporterError::Shutdown { exporter: self.name.clone(), reason: "worker panicked".into() })
            }
            None => Ok(()),
        }
    }
}

impl Drop for PushWorker {
    /// Dropped without `shutdown`: ask the worker to stop (it still makes its last push) but do
    /// not wait for it.
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock() = true;
        cvar.notify_all();
    }
}
