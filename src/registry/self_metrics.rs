//! The crate's own metrics, under the reserved prefix `codomyrmex_metrics_`.
//!
//! Every event the policy or a value check produces is counted here by reason, and every
//! backend registers its own set of reasons when it starts ([`SelfMetrics::register`]). Each
//! set is fixed at compile time, so self-metrics are bounded by construction.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

/// Defines a set of self-metric reasons: an enum whose variants are `(family, reason)` pairs,
/// with [`SelfReason`] implemented for it. The core's [`Event`] is one such set; each backend
/// defines its own and registers it when it starts ([`SelfMetrics::register`]).
macro_rules! self_events {
    ($(#[$meta:meta])* $vis:vis enum $name:ident, help: $help:path { $( $variant:ident => ($family:literal, $reason:literal) ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name { $( #[doc = concat!("`", $family, "{reason=\"", $reason, "\"}`")] $variant ),+ }

        #[allow(dead_code, unreachable_pub)] // a set may be private, or read through `SelfReason` alone
        impl $name {
            /// Every reason of the set, in rendering order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The self-metric family (without the `codomyrmex_metrics_` prefix and `_total`).
            pub fn family(self) -> &'static str {
                match self { $($name::$variant => $family),+ }
            }

            /// The self-metric family's full name, without `_total`.
            pub fn full_family(self) -> &'static str {
                match self { $($name::$variant => concat!("codomyrmex_metrics_", $family)),+ }
            }

            /// The `reason` label value.
            pub fn reason(self) -> &'static str {
                match self { $($name::$variant => $reason),+ }
            }
        }

        impl $crate::registry::SelfReason for $name {
            const REASONS: &'static [(&'static str, &'static str)] = &[$(($family, $reason)),+];

            fn index(self) -> usize {
                self as usize
            }

            fn help(family: &str) -> &'static str {
                $help(family)
            }

            fn crate_owned() -> bool {
                true
            }
        }
    };
}
pub(crate) use self_events;

self_events! {
    /// One countable policy, registry or collector event: a self-metric family and its `reason`
    /// label. Backends count their own events in sets of their own.
    pub enum Event, help: family_help {
    InvalidKey => ("label_keys_refused", "invalid_key"),
    ReservedKey => ("label_keys_refused", "reserved_key"),
    SensitiveKey => ("label_keys_refused", "sensitive_key"),
    KeyNotAllowed => ("label_keys_refused", "not_allowed"),
    DuplicateKey => ("label_keys_refused", "duplicate_key"),
    KeySanitized => ("label_keys_refused", "sanitized"),
    Arity => ("label_keys_refused", "arity"),
    TooManyKeys => ("label_keys_refused", "too_many_keys"),
    ControlChars => ("label_values_sanitized", "control_chars"),
    Truncated => ("label_values_sanitized", "truncated"),
    ValueNotAllowed => ("label_values_sanitized", "not_allowed"),
    RedactedEmail => ("label_values_redacted", "email"),
    RedactedJwt => ("label_values_redacted", "jwt"),
    RedactedBearer => ("label_values_redacted", "bearer"),
    RedactedApiKey => ("label_values_redacted", "api_key"),
    RedactedCard => ("label_values_redacted", "card_number"),
    RedactedIp => ("label_values_redacted", "ip_address"),
    RedactedUuid => ("label_values_redacted", "uuid"),
    OverflowMetric => ("series_overflowed", "metric_limit"),
    OverflowGlobal => ("series_overflowed", "global_limit"),
    SeriesDropped => ("series_dropped", "sensitive_value"),
    SeriesExpired => ("series_dropped", "expired"),
    NegativeCounter => ("values_rejected", "negative_counter"),
    NonFiniteCounter => ("values_rejected", "non_finite_counter"),
    NonFiniteObservation => ("values_rejected", "non_finite_observation"),
    NanGauge => ("values_rejected", "nan_gauge"),
    InvalidName => ("registrations_refused", "invalid_name"),
    NameSanitized => ("registrations_refused", "name_sanitized"),
    TypeConflict => ("registrations_refused", "type_conflict"),
    RegistryFull => ("registrations_refused", "registry_full"),
    SensitiveName => ("registrations_refused", "sensitive_name"),
    SensitiveHelp => ("registrations_refused", "sensitive_help"),
    CollectorPanicked => ("collector_errors", "panicked"),
    ProcessReadFailed => ("collector_errors", "process_read"),
    }
}

/// Help text of each core self-metric family.
pub(crate) fn family_help(family: &str) -> &'static str {
    match family {
        "label_keys_refused" => "Label keys dropped from a series by the policy, by reason.",
        "label_values_sanitized" => "Label values changed by sanitization or mapped to `other`, by reason.",
        "label_values_redacted" => "Label values that looked like secrets or personal data, by kind.",
        "series_overflowed" => "New label sets folded into a metric's overflow series, by limit.",
        "series_dropped" => "Series dropped or expired, by reason.",
        "values_rejected" => "Recorded values refused (negative or non-finite), by reason.",
        "registrations_refused" => "Metric registrations through the facade refused or rewritten, by reason.",
        "collector_errors" => "Collectors that failed before a read: panicked, or could not read /proc.",
        _ => "codomyrmex-metrics self-metric.",
    }
}

/// A set of self-metric reasons (an enum made with the crate's `self_events!`, or by hand):
/// every `(family, reason)` pair in order, a family's reasons next to each other.
pub trait SelfReason: Copy + Send + Sync + 'static {
    /// Every `(family, reason)` of the set, in rendering order.
    const REASONS: &'static [(&'static str, &'static str)];
    /// This reason's place in [`Self::REASONS`].
    fn index(self) -> usize;
    /// The help text of one of the set's families.
    fn help(family: &str) -> &'static str;
    /// The crate's own sets are counted by the crate alone [`false`].
    #[doc(hidden)]
    fn crate_owned() -> bool {
        false
    }
}

/// Which core events are exposed: the policy and registry's always, the collectors' once one
/// is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Core = 1,
    Collector = 2,
}

impl Event {
    pub(crate) fn group(self) -> Group {
        match self.family() {
            "collector_errors" => Group::Collector,
            _ => Group::Core,
        }
    }
}

/// Prefix of every self-metric.
pub const SELF_PREFIX: &str = "codomyrmex_metrics_";

/// One registered set: its reasons, help and counters.
struct Registered {
    set: std::any::TypeId,
    reasons: &'static [(&'static str, &'static str)],
    /// Each reason's family with the prefix, made once at registration (renders allocate nothing).
    full: Vec<String>,
    help: fn(&str) -> &'static str,
    counts: Arc<[AtomicU64]>,
}

/// One self-metric count, as [`SelfMetrics::for_each`] gives it.
#[derive(Debug, Clone, Copy)]
pub struct SelfCount<'a> {
    /// The family, without the prefix and `_total`.
    pub family: &'static str,
    /// The family with the `codomyrmex_metrics_` prefix, without `_total`.
    pub full_family: &'a str,
    /// The `reason` label.
    pub reason: &'static str,
    /// The family's help text.
    pub help: &'static str,
    /// How many times it happened.
    pub count: u64,
}

/// The crate's own counters: the core's [`Event`]s, and the sets backends register when they
/// start. Only the crate and each set's owner (through its [`SelfCounters`]) can count; anyone
/// can read.
pub struct SelfMetrics {
    counts: Box<[AtomicU64]>,
    /// The [`Group`]s whose events are exposed, as bits.
    active: AtomicU32,
    sets: RwLock<Vec<Registered>>,
}

impl std::fmt::Debug for SelfMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfMetrics").field("sets", &self.sets.read().len()).finish_non_exhaustive()
    }
}

impl Default for SelfMetrics {
    fn default() -> Self {
        Self {
            counts: Event::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            active: AtomicU32::new(Group::Core as u32),
            sets: RwLock::new(Vec::new()),
        }
    }
}

/// The counters of one registered set: what its owner counts with.
pub struct SelfCounters<R> {
    counts: Arc<[AtomicU64]>,
    _set: PhantomData<fn(R)>,
}

impl<R> Clone for SelfCounters<R> {
    fn clone(&self) -> Self {
        Self { counts: Arc::clone(&self.counts), _set: PhantomData }
    }
}

impl<R> std::fmt::Debug for SelfCounters<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfCounters").field("reasons", &self.counts.len()).finish()
    }
}

impl<R: SelfReason> SelfCounters<R> {
    /// Counts one `reason`.
    #[inline]
    pub fn record(&self, reason: R) {
        self.add(reason, 1);
    }

    /// Counts `n` of `reason`.
    #[inline]
    pub fn add(&self, reason: R, n: u64) {
        if let Some(c) = self.counts.get(reason.index()) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// How many times `reason` was counted.
    pub fn get(&self, reason: R) -> u64 {
        self.counts.get(reason.index()).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn detached() -> Self {
        Self { counts: R::REASONS.iter().map(|_| AtomicU64::new(0)).collect(), _set: PhantomData }
    }
}

/// A family name a set may use: lower-case ASCII letters, digits and `_`, not starting with a
/// digit; and a reason: the same, so neither needs escaping in any format.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl SelfMetrics {
    /// Counts one core event.
    #[inline]
    pub(crate) fn record(&self, event: Event) {
        self.add(event, 1);
    }

    /// Counts `n` core events.
    pub(crate) fn add(&self, event: Event, n: u64) {
        if let Some(c) = self.counts.get(event as usize) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Registers the set `R` (a backend of your own does when it starts; again, it gets the
    /// same counters) and exposes its families from then on. One of the crate's own sets
    /// ([`Event`], the backends'), a set whose names are not plain (`[a-z_][a-z0-9_]*`), or one
    /// whose families another set already has, is not exposed: its counters count, unseen (so
    /// nobody but the crate can count in the crate's sets), and a warning says why.
    pub fn register<R: SelfReason>(&self) -> SelfCounters<R> {
        if R::crate_owned() {
            tracing::warn!(set = std::any::type_name::<R>(), "the crate's own self-metrics are counted by it alone");
            return SelfCounters::detached();
        }
        self.register_set()
    }

    /// Registers one of the crate's own sets (see [`Self::register`]).
    #[allow(dead_code)] // by the backends compiled in, if any
    pub(crate) fn register_own<R: SelfReason>(&self) -> SelfCounters<R> {
        self.register_set()
    }

    fn register_set<R: SelfReason>(&self) -> SelfCounters<R> {
        let id = std::any::TypeId::of::<R>();
        if let Some(r) = self.sets.read().iter().find(|r| r.set == id) {
            return SelfCounters { counts: Arc::clone(&r.counts), _set: PhantomData };
        }
        let mut sets = self.sets.write();
        if let Some(r) = sets.iter().find(|r| r.set == id) {
            return SelfCounters { counts: Arc::clone(&r.counts), _set: PhantomData };
        }
        let taken = |family: &str| {
            Event::ALL.iter().any(|e| e.family() == family)
                || sets.iter().any(|r| r.reasons.iter().any(|(f, _)| *f == family))
        };
        let refused = if id == std::any::TypeId::of::<Event>() {
            Some("it is the core's own set")
        } else if !R::REASONS.iter().all(|(f, r)| plain(f) && plain(r)) {
            Some("a family or reason is not [a-z_][a-z0-9_]*")
        } else if R::REASONS.iter().any(|(f, _)| taken(f)) {
            Some("one of its families is taken")
        } else {
            None
        };
        if let Some(why) = refused {
            tracing::warn!(set = std::any::type_name::<R>(), why, "self-metric set not exposed");
            return SelfCounters::detached();
        }
        let counters = SelfCounters::<R>::detached();
        let full = R::REASONS.iter().map(|(f, _)| format!("{SELF_PREFIX}{f}")).collect();
        let counts = Arc::clone(&counters.counts);
        sets.push(Registered { set: id, reasons: R::REASONS, full, help: R::help, counts });
        counters
    }

    /// How many times `reason` happened (0 for a set not registered).
    pub fn get<R: SelfReason>(&self, reason: R) -> u64 {
        let (id, i) = (std::any::TypeId::of::<R>(), reason.index());
        if id == std::any::TypeId::of::<Event>() {
            return self.counts.get(i).map_or(0, |c| c.load(Ordering::Relaxed));
        }
        let sets = self.sets.read();
        sets.iter().find(|r| r.set == id).and_then(|r| r.counts.get(i)).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Calls `f` for every exposed count: the core's (the policy and registry always,
    /// collectors once one is registered), then each registered set's, in order; a family's
    /// reasons one after another.
    pub fn for_each(&self, mut f: impl FnMut(SelfCount<'_>)) {
        let active = self.active.load(Ordering::Relaxed);
        for (e, c) in Event::ALL.iter().zip(self.counts.iter()) {
            if active & e.group() as u32 != 0 {
                let (family, full_family, reason) = (e.family(), e.full_family(), e.reason());
                let help = family_help(family);
                f(SelfCount { family, full_family, reason, help, count: c.load(Ordering::Relaxed) });
            }
        }
        for r in self.sets.read().iter() {
            for (((family, reason), full), c) in r.reasons.iter().zip(&r.full).zip(r.counts.iter()) {
                let help = (r.help)(family);
                f(SelfCount { family, full_family: full, reason, help, count: c.load(Ordering::Relaxed) });
            }
        }
    }

    /// Exposes the events of `group` from now on.
    pub(crate) fn activate(&self, group: Group) {
        self.active.fetch_or(group as u32, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    self_events! {
        enum Demo, help: demo_help {
            A => ("demo_things", "a"),
            B => ("demo_things", "b"),
        }
    }

    fn demo_help(_: &str) -> &'static str {
        "Demo."
    }

    self_events! {
        enum Clash, help: demo_help {
            X => ("series_dropped", "x"),
        }
    }

    #[test]
    fn families_are_contiguous() {
        let mut seen: Vec<&str> = Vec::new();
        for e in Event::ALL {
            if seen.last() != Some(&e.family()) {
                assert!(!seen.contains(&e.family()), "{} is split in Event::ALL", e.family());
                seen.push(e.family());
            }
        }
    }

    #[test]
    fn a_registered_set_counts_and_is_exposed_after_the_core() {
        let m = SelfMetrics::default();
        assert_eq!(m.get(Demo::A), 0, "not registered yet");
        let c = m.register_own::<Demo>();
        c.add(Demo::B, 3);
        assert_eq!((m.get(Demo::B), m.register_own::<Demo>().get(Demo::B)), (3, 3), "same counters");
        assert_eq!(m.register::<Demo>().get(Demo::B), 0, "the crate's own sets are not handed out");
        let mut last = None;
        m.for_each(|s| last = Some((s.family, s.reason, s.count)));
        assert_eq!(last, Some(("demo_things", "b", 3)));
    }

    #[test]
    fn a_set_cannot_forge_or_shadow_another() {
        let m = SelfMetrics::default();
        m.register::<Event>().record(Event::SeriesDropped);
        assert_eq!(m.get(Event::SeriesDropped), 0, "the core's counts are the crate's alone");
        m.register_own::<Clash>().record(Clash::X);
        let mut families = Vec::new();
        m.for_each(|s| families.push(s.reason));
        assert!(!families.contains(&"x"), "a set reusing a core family is not exposed");
    }
}
