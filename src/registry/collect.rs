//! Collectors: callbacks that refresh values computed on demand (process metrics, a queue's
//! depth) right before the registry is read by a render, a series view or a StatsD flush.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::{Event, Registry};
use crate::error::RegistrationError;

/// Most collectors one registry takes.
pub const MAX_COLLECTORS: usize = 64;

/// A collector, as the registry keeps it.
pub(crate) type CollectFn = Arc<dyn Fn() + Send + Sync>;

thread_local! {
    /// Set while this thread runs collectors, so a collector that reads the registry does not
    /// run the collectors again.
    static COLLECTING: Cell<bool> = const { Cell::new(false) };
}

impl Registry {
    /// Registers `collect`, called before every read of the registry (each scrape or render,
    /// [`Registry::for_each_series`], each StatsD flush) to set gauges and counters whose
    /// values are computed on demand. Keep it quick: it runs on every read. A collector that
    /// panics is caught and counted in `codomyrmex_metrics_collector_errors_total{reason="panicked"}`.
    /// Capture handles, not a clone of the registry: the registry owns its collectors, so a
    /// collector holding the registry keeps both alive for good.
    ///
    /// ```
    /// use codomyrmex_metrics::{Format, Registry};
    /// let registry = Registry::default();
    /// let depth = registry.gauge("queue_depth", "Jobs waiting.").unwrap();
    /// let queue = std::sync::Arc::new(std::sync::Mutex::new(vec![1, 2, 3]));
    /// let q = queue.clone();
    /// registry.register_collector(move || depth.set(q.lock().unwrap().len() as f64)).unwrap();
    /// assert!(registry.render(Format::PrometheusText).contains("queue_depth 3\n"));
    /// ```
    ///
    /// # Errors
    /// [`RegistrationError::TooManyCollectors`] past [`MAX_COLLECTORS`].
    pub fn register_collector(&self, collect: impl Fn() + Send + Sync + 'static) -> Result<(), RegistrationError> {
        let mut all = self.inner.collectors.write();
        if all.len() >= MAX_COLLECTORS {
            return Err(RegistrationError::TooManyCollectors { limit: MAX_COLLECTORS });
        }
        // Copy on write: a read takes the list with one refcount, never an allocation.
        let mut next = Vec::with_capacity(all.len() + 1);
        next.extend(all.iter().cloned());
        next.push(Arc::new(collect) as CollectFn);
        *all = next.into();
        self.inner.shared.events.activate(super::Group::Collector);
        Ok(())
    }

    /// Runs every collector once (reads call it; nested reads from a collector do not).
    pub(crate) fn collect(&self) {
        if COLLECTING.with(Cell::get) {
            return;
        }
        // Released before the collectors run, so one may register another.
        let all = Arc::clone(&self.inner.collectors.read());
        if all.is_empty() {
            return;
        }
        COLLECTING.with(|c| c.set(true));
        for collect in all.iter() {
            if catch_unwind(AssertUnwindSafe(|| collect())).is_err() {
                self.self_metrics().record(Event::CollectorPanicked);
            }
        }
        COLLECTING.with(|c| c.set(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn a_panicking_collector_is_counted_and_the_render_goes_on() {
        let r = Registry::default();
        r.register_collector(|| panic!("collector bug")).unwrap();
        let g = r.gauge("after", "Set by a later collector.").unwrap();
        r.register_collector(move || g.set(7.0)).unwrap();
        let text = r.render(Format::PrometheusText);
        assert!(text.contains("after 7\n"), "{text}");
        assert!(text.contains("codomyrmex_metrics_collector_errors_total{reason=\"panicked\"} 1\n"), "{text}");
    }

    #[test]
    fn a_collector_that_renders_does_not_recurse() {
        let r = Registry::default();
        let inner = r.clone();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = calls.clone();
        r.register_collector(move || {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = inner.render(Format::PrometheusText);
        })
        .unwrap();
        let _ = r.render(Format::PrometheusText);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn collectors_are_bounded() {
        let r = Registry::default();
        for _ in 0..MAX_COLLECTORS {
            r.register_collector(|| {}).unwrap();
        }
        assert_eq!(r.register_collector(|| {}), Err(RegistrationError::TooManyCollectors { limit: MAX_COLLECTORS }));
    }
}
