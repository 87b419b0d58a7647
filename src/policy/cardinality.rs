//! Stage 5: cardinality limits. Past a limit, a new label set goes to the metric's one
//! overflow series, so totals stay right and memory stays bounded.

/// Label of the overflow series: `{codomyrmex_overflow="true"}`.
pub const OVERFLOW_LABEL: &str = "codomyrmex_overflow";
/// The overflow series' label set as rendered.
pub const OVERFLOW_LABELS: &str = "codomyrmex_overflow=\"true\"";

/// Default series per metric.
pub const DEFAULT_MAX_SERIES_PER_METRIC: usize = 2000;
/// Default series in total.
pub const DEFAULT_MAX_SERIES_TOTAL: usize = 100_000;

/// Which limit a new label set hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The metric's own limit.
    Metric,
    /// The registry-wide limit.
    Global,
}

/// Decides whether a new series fits: `in_metric` and `in_total` are the counts before it.
pub fn admit(in_metric: usize, metric_limit: usize, in_total: usize, total_limit: usize) -> Result<(), Overflow> {
    if in_metric >= metric_limit {
        Err(Overflow::Metric)
    } else if in_total >= total_limit {
        Err(Overflow::Global)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_label_names_the_label() {
        assert_eq!(OVERFLOW_LABELS, format!("{OVERFLOW_LABEL}=\"true\""));
    }

    #[test]
    fn metric_limit_is_checked_first() {
        assert_eq!(admit(0, 1, 0, 1), Ok(()));
        assert_eq!(admit(1, 1, 1, 1), Err(Overflow::Metric));
        assert_eq!(admit(0, 2, 5, 5), Err(Overflow::Global));
    }
}
