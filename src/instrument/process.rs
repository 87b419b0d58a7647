//! Process metrics on Linux (feature `process`), read from `/proc/self` before each read of
//! the registry, under the names Prometheus' own client libraries use.

use crate::error::RegistrationError;
use crate::registry::Registry;

/// The process metrics' names, as rendered (the registry's prefix does not apply to them).
pub const PROCESS_METRICS: [&str; 8] = [
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_virtual_memory_max_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_threads",
    "process_start_time_seconds",
];

impl Registry {
    /// Registers the process metrics of Prometheus' client libraries, refreshed from
    /// `/proc/self` before every read of the registry (each scrape, push or StatsD flush):
    ///
    /// | metric | type | meaning |
    /// |---|---|---|
    /// | `process_cpu_seconds_total` | counter | user and system CPU time |
    /// | `process_resident_memory_bytes` | gauge | resident set size |
    /// | `process_virtual_memory_bytes` | gauge | virtual memory size |
    /// | `process_virtual_memory_max_bytes` | gauge | address-space limit (`-1`: unlimited) |
    /// | `process_open_fds` | gauge | open file descriptors |
    /// | `process_max_fds` | gauge | soft limit on open file descriptors (`-1`: unlimited) |
    /// | `process_threads` | gauge | OS threads |
    /// | `process_start_time_seconds` | gauge | start time, in seconds since the Unix epoch |
    ///
    /// The registry's prefix does not apply to them, so dashboards built for other exporters
    /// work unchanged; global labels do. Calling it again does nothing. A read of `/proc` that
    /// fails leaves the last values and counts
    /// `codomyrmex_metrics_collector_errors_total{reason="process_read"}`.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use codomyrmex_metrics::{Format, Registry};
    /// let registry = Registry::default();
    /// registry.register_process_metrics().unwrap();
    /// let text = registry.render(Format::PrometheusText);
    /// assert!(text.contains("# TYPE process_cpu_seconds_total counter\n"));
    /// assert!(text.contains("\nprocess_threads "));
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`RegistrationError::Unsupported`] on platforms other than Linux; a registration error
    /// when one of the names is registered already with another type.
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    pub fn register_process_metrics(&self) -> Result<(), RegistrationError> {
        #[cfg(target_os = "linux")]
        {
            linux::register(self)
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(RegistrationError::Unsupported { what: "process metrics", reason: "they are read from Linux's /proc" })
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::atomic::Ordering;

    use parking_lot::Mutex;
    use procfs::process::{LimitValue, Process};

    use crate::error::RegistrationError;
    use crate::registry::{Event, FamilyRef, MetricKind, MetricOpts, Registry, Unit};
    use crate::{Counter, Gauge};

    struct Handles {
        cpu: Counter,
        rss: Gauge,
        vsize: Gauge,
        vmax: Gauge,
        open_fds: Gauge,
        max_fds: Gauge,
        threads: Gauge,
        start: Gauge,
    }

    fn counter(r: &Registry, opts: MetricOpts) -> Result<Counter, RegistrationError> {
        match r.register_conventional(MetricKind::Counter, opts)? {
            FamilyRef::Counter(fam) => Ok(Counter { inner: fam.get(&[]) }),
            _ => unreachable!("register_conventional returns the kind it was asked for"),
        }
    }

    fn gauge(r: &Registry, opts: MetricOpts) -> Result<Gauge, RegistrationError> {
        match r.register_conventional(MetricKind::Gauge, opts)? {
            FamilyRef::Gauge(fam) => Ok(Gauge { inner: fam.get(&[]) }),
            _ => unreachable!("register_conventional returns the kind it was asked for"),
        }
    }

    fn limit(v: LimitValue) -> f64 {
        match v {
            LimitValue::Unlimited => -1.0,
            LimitValue::Value(n) => n as f64,
        }
    }

    pub(super) fn register(r: &Registry) -> Result<(), RegistrationError> {
        if r.inner.process_registered.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let opts = MetricOpts::new;
        let made = (|| {
            Ok::<_, RegistrationError>(Handles {
                cpu: counter(
                    r,
                    opts("process_cpu_seconds", "Total user and system CPU time spent in seconds.").unit(Unit::SECONDS),
                )?,
                rss: gauge(r, opts("process_resident_memory", "Resident memory size in bytes.").unit(Unit::BYTES))?,
                vsize: gauge(r, opts("process_virtual_memory", "Virtual memory size in bytes.").unit(Unit::BYTES))?,
                vmax: gauge(
                    r,
                    opts(
                        "process_virtual_memory_max",
                        "Maximum amount of virtual memory available in bytes (-1: unlimited).",
                    )
                    .unit(Unit::BYTES),
                )?,
                open_fds: gauge(r, opts("process_open_fds", "Number of open file descriptors."))?,
                max_fds: gauge(r, opts("process_max_fds", "Maximum number of open file descriptors (-1: unlimited)."))?,
                threads: gauge(r, opts("process_threads", "Number of OS threads in the process."))?,
                start: gauge(
                    r,
                    opts("process_start_time", "Start time of the process since unix epoch in seconds.")
                        .unit(Unit::SECONDS),
                )?,
            })
        })();
        let handles = match made {
            Ok(h) => h,
            Err(e) => {
                r.inner.process_registered.store(false, Ordering::Release);
                return Err(e);
            }
        };
        let ticks = procfs::ticks_per_second().max(1) as f64;
        let page = procfs::page_size();
        // The start time never changes: read it once.
        if let (Ok(stat), Ok(boot)) = (Process::myself().and_then(|p| p.stat()), procfs::boot_time_secs()) {
            handles.start.set(boot as f64 + stat.starttime as f64 / ticks);
        }
        let cpu_ticks_seen = Mutex::new(0u64);
        let events = r.inner.shared.events.clone();
        r.register_collector(move || {
            let read = || -> procfs::ProcResult<()> {
                let me = Process::myself()?;
                let stat = me.stat()?;
                let ticks_now = stat.utime.saturating_add(stat.stime);
                {
                    let mut seen = cpu_ticks_seen.lock();
                    if ticks_now > *seen {
                        handles.cpu.inc_by_f64((ticks_now - *seen) as f64 / ticks);
                        *seen = ticks_now;
                    }
                }
                handles.rss.set(stat.rss.saturating_mul(page) as f64);
                handles.vsize.set(stat.vsize as f64);
                handles.threads.set(stat.num_threads as f64);
                handles.open_fds.set(me.fd_count()? as f64);
                let limits = me.limits()?;
                handles.max_fds.set(limit(limits.max_open_files.soft_limit));
                handles.vmax.set(limit(limits.max_address_space.soft_limit));
                Ok(())
            };
            if let Err(e) = read() {
                events.record(Event::ProcessReadFailed);
                tracing::debug!(error = %e, "reading /proc/self for the process metrics failed");
            }
        })
        .inspect_err(|_| r.inner.process_registered.store(false, Ordering::Release))
    }
}
