//! Stage 5: cardinality limits. Past a limit, a new label set goes to the metric's one
//! overflow series, so totals stay right and memory stays bounded.

use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Decides whether a new series fits, and if so takes its registry-wide slot. `in_metric` is
/// the metric's count (read under the family's lock, so that check is exact); the slot is taken
/// from `total` with one atomic update, so families racing for the last slots never take
/// more than `total_limit` between them.
pub(crate) fn admit(
    in_metric: usize,
    metric_limit: usize,
    total: &AtomicUsize,
    total_limit: usize,
) -> Result<(), Overflow> {
    if in_metric >= metric_limit {
        return Err(Overflow::Metric);
    }
    total
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| (t < total_limit).then_some(t + 1))
        .map(|_| ())
        .map_err(|_| Overflow::Global)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_label_names_the_label() {
        assert_eq!(OVERFLOW_LABELS, format!("{OVERFLOW_LABEL}=\"true\""));
    }

    #[test]
    fn metric_limit_is_checked_first_and_slots_are_taken() {
        let total = AtomicUsize::new(0);
        assert_eq!(admit(0, 1, &total, 1), Ok(()));
        assert_eq!(total.load(Ordering::Relaxed), 1);
        assert_eq!(admit(1, 1, &total, 1), Err(Overflow::Metric));
        assert_eq!(admit(0, 2, &total, 1), Err(Overflow::Global));
        assert_eq!(total.load(Ordering::Relaxed), 1, "a refused series takes no slot");
    }
}
