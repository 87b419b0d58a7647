//! The circuit breaker of the outbound clients (Pushgateway, StatsD streams): after
//! `failures` consecutive failures a client stops trying for `cool_down`, then lets one probe
//! through; the probe's success closes the circuit, its failure opens it for another cool-down.
//! Nothing waits on it: a caller asks, and is told to go ahead or to give up at once.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::backend::retry::MAX_DURATION;

/// Circuit breaker settings: [`CircuitBreaker::default`] opens after 5 consecutive failures
/// and probes again after 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreaker {
    pub(crate) failures: u32,
    pub(crate) cool_down: Duration,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self { failures: 5, cool_down: Duration::from_secs(30) }
    }
}

impl CircuitBreaker {
    /// Opens after `failures` consecutive failures [1 to 1,000] and stays open `cool_down`
    /// [100 ms to 24 h] before one probe; values out of range are brought into it.
    #[must_use]
    pub fn new(failures: u32, cool_down: Duration) -> Self {
        Self {
            failures: failures.clamp(1, 1_000),
            cool_down: cool_down.clamp(Duration::from_millis(100), MAX_DURATION),
        }
    }

    /// A breaker that never opens: the client keeps trying, as its backoff allows.
    #[must_use]
    pub fn never() -> Self {
        Self { failures: u32::MAX, cool_down: Duration::ZERO }
    }
}

/// What the breaker says to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Closed: go ahead.
    Go,
    /// The cool-down is over: this attempt is the one probe.
    Probe,
    /// Open (or a probe is out): give up at once.
    Refuse,
}

/// A change of state the caller counts (and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Opened,
    Closed,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    Probing,
}

/// One client's breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    settings: CircuitBreaker,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(settings: CircuitBreaker) -> Self {
        Self { settings, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    pub(crate) fn admit(&self, now: Instant) -> Admit {
        let mut state = self.state.lock();
        match *state {
            State::Closed { .. } => Admit::Go,
            State::Open { until } if now >= until => {
                *state = State::Probing;
                Admit::Probe
            }
            State::Open { .. } | State::Probing => Admit::Refuse,
        }
    }

    pub(crate) fn succeeded(&self) -> Option<Transition> {
        let mut state = self.state.lock();
        let was_open = !matches!(*state, State::Closed { .. });
        *state = State::Closed { failures: 0 };
        was_open.then_some(Transition::Closed)
    }

    pub(crate) fn failed(&self, now: Instant) -> Option<Transition> {
        let mut state = self.state.lock();
        let open = |s: &mut State| *s = State::Open { until: now + self.settings.cool_down };
        match *state {
            State::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.settings.failures {
                    open(&mut state);
                    return Some(Transition::Opened);
                }
                *state = State::Closed { failures };
                None
            }
            // A failed probe: open again, for a whole cool-down (already counted as open).
            State::Probing | State::Open { .. } => {
                open(&mut state);
                None
            }
        }
    }

    /// Whether attempts are refused now (for the caller's own bookkeeping).
    #[cfg_attr(not(any(feature = "pushgateway", feature = "otlp")), allow(dead_code))]
    pub(crate) fn is_open(&self) -> bool {
        !matches!(*self.state.lock(), State::Closed { .. })
    }

    /// Feeds one request's outcome to the breaker (`Err(true)`: a failure that says the backend
    /// is away; `Err(false)`: a refusal, which does not count), then logs a change of state for
    /// `backend` and hands it to `count`.
    #[cfg(feature = "_http-client")]
    pub(crate) fn observe(&self, outcome: Result<(), bool>, backend: &'static str, count: impl FnOnce(Transition)) {
        let transition = match outcome {
            Ok(()) => self.succeeded(),
            Err(true) => self.failed(Instant::now()),
            Err(false) => None,
        };
        match transition {
            Some(Transition::Opened) => tracing::warn!(
                backend,
                cool_down = ?self.settings.cool_down,
                "circuit breaker opened after repeated failures; sending pauses"
            ),
            Some(Transition::Closed) => tracing::info!(backend, "circuit breaker closed: the backend answers again"),
            None => return,
        }
        if let Some(t) = transition {
            count(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_n_failures_probes_once_after_the_cool_down_and_closes_on_success() {
        let b = Breaker::new(CircuitBreaker::new(3, Duration::from_secs(10)));
        let t = Instant::now();
        assert_eq!((b.failed(t), b.failed(t)), (None, None));
        assert_eq!(b.admit(t), Admit::Go);
        assert_eq!(b.failed(t), Some(Transition::Opened));
        assert_eq!(b.admit(t + Duration::from_secs(9)), Admit::Refuse);
        assert_eq!(b.admit(t + Duration::from_secs(10)), Admit::Probe);
        assert_eq!(b.admit(t + Duration::from_secs(10)), Admit::Refuse, "one probe at a time");
        assert_eq!(b.failed(t + Duration::from_secs(10)), None, "a failed probe opens it again");
        assert_eq!(b.admit(t + Duration::from_secs(19)), Admit::Refuse);
        assert_eq!(b.admit(t + Duration::from_secs(20)), Admit::Probe);
        assert_eq!(b.succeeded(), Some(Transition::Closed));
        assert_eq!(b.admit(t + Duration::from_secs(20)), Admit::Go);
        assert_eq!(b.succeeded(), None);
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = Breaker::new(CircuitBreaker::new(2, Duration::from_secs(1)));
        let t = Instant::now();
        assert_eq!(b.failed(t), None);
        b.succeeded();
        assert_eq!(b.failed(t), None);
        assert_eq!(b.failed(t), Some(Transition::Opened));
    }

    #[test]
    fn never_never_opens_and_settings_are_bounded() {
        let b = Breaker::new(CircuitBreaker::never());
        let t = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(b.failed(t), None);
        }
        assert_eq!(CircuitBreaker::new(0, Duration::ZERO), CircuitBreaker::new(1, Duration::from_millis(100)));
        assert_eq!(CircuitBreaker::new(u32::MAX, Duration::MAX).cool_down, MAX_DURATION);
    }
}
