//! Bounds and backoff shared by the clients that retry (Pushgateway, StatsD streams): the
//! longest duration a setting accepts, and exponential backoff with jitter.

use std::time::{Duration, Instant};

/// Longest interval, timeout, budget or backoff accepted; longer ones are cut to it.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// First and largest wait, clamped: at least 1 ms, the largest no smaller than the first.
pub(crate) fn backoff_bounds(initial: Duration, max: Duration) -> (Duration, Duration) {
    let initial = initial.clamp(Duration::from_millis(1), MAX_DURATION);
    (initial, max.clamp(initial, MAX_DURATION))
}

/// The wait after `d`: doubled, up to `max`.
pub(crate) fn next_backoff(d: Duration, max: Duration) -> Duration {
    (d * 2).min(max)
}

/// `d` plus up to half of it again, at random, so many clients do not retry in step.
pub(crate) fn jitter(d: Duration) -> Duration {
    use std::hash::BuildHasher;
    let r = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    d + d.mul_f64((r % 1000) as f64 / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jitter_adds_at_most_half() {
        assert_eq!(
            backoff_bounds(Duration::ZERO, Duration::ZERO),
            (Duration::from_millis(1), Duration::from_millis(1))
        );
        assert_eq!(backoff_bounds(Duration::MAX, Duration::MAX).1, MAX_DURATION);
        assert_eq!(next_backoff(Duration::from_secs(8), Duration::from_secs(10)), Duration::from_secs(10));
        let d = Duration::from_millis(100);
        assert!((d..=d.mul_f64(1.5)).contains(&jitter(d)));
    }
}
