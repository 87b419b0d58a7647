//! Helpers shared by the handles: value checks and key-ordered lookups.

use crate::registry::family::{Family, Series};
use crate::registry::Event;

/// Maps `key = value` pairs onto a family's raw key, on the stack for up to
/// [`super::MAX_LABEL_KEYS`] pairs. A declared family takes values in key order (undeclared
/// keys are counted as not allowed); a facade family takes `k, v, k, v…` sorted by key, so
/// label order never makes a different series.
pub(crate) fn by_key<C, R>(fam: &Family<C>, pairs: &[(&str, &str)], f: impl FnOnce(&Family<C>, &[&str]) -> R) -> R
where
    C: crate::registry::family::Cell,
{
    const N: usize = super::MAX_LABEL_KEYS;
    let Some(keys) = fam.desc.keys.as_deref() else {
        if pairs.len() > N {
            let mut sorted: Vec<(&str, &str)> = pairs.to_vec();
            sorted.sort_unstable_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
            let flat: Vec<&str> = sorted.iter().flat_map(|(k, v)| [*k, *v]).collect();
            return f(fam, &flat);
        }
        let mut sorted = [("", ""); N];
        sorted[..pairs.len()].copy_from_slice(pairs);
        let sorted = &mut sorted[..pairs.len()];
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
        let mut flat = [""; 2 * N];
        for (i, (k, v)) in sorted.iter().enumerate() {
            flat[2 * i] = k;
            flat[2 * i + 1] = v;
        }
        return f(fam, &flat[..2 * pairs.len()]);
    };
    let mut buf = [""; N];
    for (k, v) in pairs {
        match keys.iter().position(|d| &**d == *k) {
            Some(i) => buf[i] = v,
            None => fam.desc.events.record(Event::KeyNotAllowed),
        }
    }
    f(fam, &buf[..keys.len().min(N)])
}

/// Why a counter increment is refused, if it is.
#[inline]
pub(crate) fn counter_increment(v: f64) -> Option<Event> {
    if v.is_nan() || v.is_infinite() {
        Some(Event::NonFiniteCounter)
    } else if v < 0.0 {
        Some(Event::NegativeCounter)
    } else {
        None
    }
}

/// Records `event` for `series` and returns whether the value must be refused.
#[cold]
pub(crate) fn refuse<C>(series: &Series<C>, event: Event) -> bool {
    series.desc().events.record(event);
    series.desc().reject_invalid
}

/// The error a `try_` method returns for a refused value.
pub(crate) fn value_error<C>(series: &Series<C>, event: Event) -> crate::PolicyError {
    crate::PolicyError::Value { metric: series.desc().name().to_owned(), reason: event.reason() }
}
