//! Prometheus text 0.0.4 and OpenMetrics 1.0 encoders.
//!
//! Both walk the registry in name order and series in label order, so output is stable.
//! They write into a caller's buffer: a repeat render into the same buffer allocates nothing.

use super::escape::{escape_help, write_f64, write_label_pairs, write_u64};
use crate::registry::{FamilyRef, MetricKind, Registry, SeriesLabels};
use crate::storage::CounterCell;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// Prometheus text format 0.0.4.
    #[default]
    PrometheusText,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The HTTP `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::PrometheusText => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    fn om(self) -> bool {
        self == Self::OpenMetrics
    }
}

thread_local! {
    static SCRATCH: std::cell::Cell<(String, String)> = const { std::cell::Cell::new((String::new(), String::new())) };
}

struct Writer<'a> {
    out: &'a mut String,
    format: Format,
    /// The global labels, escaped once per render.
    global: String,
    /// The current series' labels, escaped once for all its lines.
    labels: String,
}

impl Writer<'_> {
    fn meta(&mut self, name: &str, kind: MetricKind, help: &str, unit: Option<&str>) {
        // Text 0.0.4 names a counter family by its sample name; OpenMetrics by its base.
        let total = if kind == MetricKind::Counter && !self.format.om() { "_total" } else { "" };
        if !help.is_empty() {
            self.out.push_str("# HELP ");
            self.out.push_str(name);
            self.out.push_str(total);
            self.out.push(' ');
            escape_help(self.out, help, self.format.om());
            self.out.push('\n');
        }
        self.out.push_str("# TYPE ");
        self.out.push_str(name);
        self.out.push_str(total);
        self.out.push(' ');
        self.out.push_str(kind.as_str());
        self.out.push('\n');
        if let (Some(unit), true) = (unit, self.format.om()) {
            self.out.push_str("# UNIT ");
            self.out.push_str(name);
            self.out.push(' ');
            self.out.push_str(unit);
            self.out.push('\n');
        }
    }

    /// Escapes a series' labels for its lines.
    fn set_labels(&mut self, labels: SeriesLabels<'_>) {
        self.labels.clear();
        write_label_pairs(&mut self.labels, labels);
    }

    /// `name{global,labels,extra}` and a space, with the labels of [`Self::set_labels`].
    fn series(&mut self, name: &str, suffix: &str, extra: Option<(&str, &str)>) {
        self.out.push_str(name);
        self.out.push_str(suffix);
        let parts = [self.global.as_str(), self.labels.as_str()];
        if parts.iter().any(|p| !p.is_empty()) || extra.is_some() {
            self.out.push('{');
            let mut first = true;
            for p in parts.iter().filter(|p| !p.is_empty()) {
                if !first {
                    self.out.push(',');
                }
                self.out.push_str(p);
                first = false;
            }
            if let Some((k, v)) = extra {
                if !first {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                self.out.push_str(v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
    }

    fn counter_value(&mut self, cell: &CounterCell) {
        let float = cell.float_value();
        if float == 0.0 {
            write_u64(self.out, cell.int_value());
        } else {
            write_f64(self.out, cell.value());
        }
        self.out.push('\n');
    }

    fn family(&mut self, family: &FamilyRef) {
        let desc = family.desc();
        let name = desc.name();
        {
            let help = desc.help.read();
            self.meta(name, desc.kind(), &help, desc.unit().map(|u| u.as_str()));
        }
        match family {
            FamilyRef::Counter(f) => f.for_each(|labels, cell| {
                self.set_labels(labels);
                self.series(name, "_total", None);
                self.counter_value(cell);
            }),
            FamilyRef::Gauge(f) => f.for_each(|labels, cell| {
                self.set_labels(labels);
                self.series(name, "", None);
                write_f64(self.out, cell.value());
                self.out.push('\n');
            }),
            FamilyRef::Histogram(f) => f.for_each(|labels, cell| {
                self.set_labels(labels);
                let le = desc.buckets.as_ref().map(|b| b.le_labels()).unwrap_or_default();
                let mut i = 0;
                // A base-2 exponential histogram has no fixed `le` values: its bounds are formatted.
                let mut bound_text = ryu::Buffer::new();
                let mut negative_bound = false;
                let count = cell.for_each_cumulative(|bound, cumulative| {
                    negative_bound |= bound < 0.0;
                    let text = match le.get(i) {
                        Some(s) => &**s,
                        None if bound.is_finite() => bound_text.format_finite(bound),
                        None => "+Inf",
                    };
                    i += 1;
                    self.series(name, "_bucket", Some(("le", text)));
                    write_u64(self.out, cumulative);
                    self.out.push('\n');
                });
                // OpenMetrics treats `_sum` as a counter, so a negative sum, or any negative
                // bucket, must not come with one, and `_sum` and `_count` go together; the `+Inf`
                // bucket still has the count.
                let sum = cell.sum();
                if !(self.format.om() && (sum < 0.0 || negative_bound)) {
                    self.series(name, "_sum", None);
                    write_f64(self.out, sum);
                    self.out.push('\n');
                    self.series(name, "_count", None);
                    write_u64(self.out, count);
                    self.out.push('\n');
                }
            }),
        }
    }

    fn self_metrics(&mut self, registry: &Registry) {
        let events = registry.self_metrics();
        let mut current = "";
        self.labels.clear();
        events.for_each(|c| {
            if c.family != current {
                current = c.family;
                self.meta(c.full_family, MetricKind::Counter, c.help, None);
            }
            self.series(c.full_family, "_total", Some(("reason", c.reason)));
            write_u64(self.out, c.count);
            self.out.push('\n');
        });
        let series = "codomyrmex_metrics_series";
        self.meta(series, MetricKind::Gauge, "Series held by the registry, overflow series not included.", None);
        self.series(series, "", None);
        write_u64(self.out, registry.series_count() as u64);
        self.out.push('\n');
    }
}

impl Registry {
    /// Renders every metric, then the self-metrics, into `out` (cleared first).
    /// Runs upkeep (idle expiry) first when an idle timeout is set.
    pub fn render_into(&self, format: Format, out: &mut String) {
        out.clear();
        if self.inner.idle_timeout.is_some() {
            self.run_upkeep();
        }
        // The label buffers are kept per thread, so a repeat render allocates nothing.
        let (mut global, labels) = SCRATCH.with(|s| s.take());
        global.clear();
        write_label_pairs(&mut global, self.inner.global_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut w = Writer { out, format, global, labels };
        self.with_families(|families| {
            for family in families.by_name.values() {
                w.family(family);
            }
        });
        w.self_metrics(self);
        if format.om() {
            w.out.push_str("# EOF\n");
        }
        SCRATCH.with(|s| s.set((w.global, w.labels)));
    }

    /// Renders into a new string.
    ///
    /// ```
    /// use codomyrmex_metrics::{Format, Registry};
    /// let r = Registry::default();
    /// r.counter("jobs", "Jobs run.").unwrap().inc_by(3);
    /// assert!(r.render(Format::PrometheusText).contains("jobs_total 3\n"));
    /// ```
    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        self.render_into(format, &mut out);
        out
    }
}
