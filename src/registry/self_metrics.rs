//! The crate's own metrics, under the reserved prefix `codomyrmex_metrics_`.
//!
//! Every event the policy or a value check produces is counted here by reason. The set of
//! families and reasons is fixed at compile time, so self-metrics are bounded by construction.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

macro_rules! events {
    ($( $variant:ident => ($family:literal, $reason:literal) ),+ $(,)?) => {
        /// One countable policy or value event: a self-metric family and its `reason` label.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Event { $( #[doc = concat!("`", $family, "{reason=\"", $reason, "\"}`")] $variant ),+ }

        impl Event {
            /// Every event, in rendering order.
            pub const ALL: &'static [Event] = &[$(Event::$variant),+];

            /// The self-metric family (without the `codomyrmex_metrics_` prefix and `_total`).
            pub fn family(self) -> &'static str {
                match self { $(Event::$variant => $family),+ }
            }

            /// The self-metric family's full name, without `_total`.
            pub fn full_family(self) -> &'static str {
                match self { $(Event::$variant => concat!("codomyrmex_metrics_", $family)),+ }
            }

            /// The `reason` label value.
            pub fn reason(self) -> &'static str {
                match self { $(Event::$variant => $reason),+ }
            }
        }
    };
}

events! {
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
    StatsdWire => ("label_values_sanitized", "statsd_wire"),
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
    ScrapeServed => ("scrapes", "served"),
    ScrapeUnauthorized => ("scrapes", "unauthorized"),
    ScrapeForbidden => ("scrapes", "forbidden"),
    ScrapeRateLimited => ("scrapes", "rate_limited"),
    ScrapeOverloaded => ("scrapes", "overloaded"),
    ScrapeConnectionLimit => ("scrapes", "connection_limit"),
    ScrapeNotFound => ("scrapes", "not_found"),
    ScrapeMethodNotAllowed => ("scrapes", "method_not_allowed"),
    ScrapeTimeout => ("scrapes", "timeout"),
    ScrapeTlsHandshake => ("scrapes", "tls_handshake_failed"),
    ScrapeClientName => ("scrapes", "client_name_refused"),
    ScrapeRenderFailed => ("scrapes", "render_failed"),
    ScrapeHostRefused => ("scrapes", "host_refused"),
    ScrapeRendered => ("scrape_renders", "rendered"),
    ScrapeRenderShared => ("scrape_renders", "shared"),
    PushSent => ("pushes", "sent"),
    PushRetried => ("pushes", "retried"),
    PushFailed => ("pushes", "failed"),
    PushDeleted => ("pushes", "deleted"),
    PushPinMismatch => ("pushes", "pin_mismatch"),
    PushSkippedCircuitOpen => ("pushes", "skipped_circuit_open"),
    PushCircuitOpened => ("pushes", "circuit_opened"),
    PushCircuitClosed => ("pushes", "circuit_closed"),
    StatsdPointsSent => ("statsd_points", "sent"),
    StatsdQueueFull => ("statsd_points", "queue_full"),
    StatsdSendQueueFull => ("statsd_points", "send_queue_full"),
    StatsdSendFailed => ("statsd_points", "send_failed"),
    StatsdOversize => ("statsd_points", "oversize"),
    StatsdNotRepresentable => ("statsd_points", "not_representable"),
    StatsdShutdown => ("statsd_points", "shutdown"),
    StatsdCircuitOpen => ("statsd_points", "circuit_open"),
    StatsdLinesSent => ("statsd_lines", "sent"),
    StatsdPayloadsSent => ("statsd_payloads", "sent"),
    StatsdBytesSent => ("statsd_bytes", "sent"),
    StatsdConnectError => ("statsd_send_errors", "connect"),
    StatsdTlsError => ("statsd_send_errors", "tls_handshake"),
    StatsdWriteError => ("statsd_send_errors", "write"),
    StatsdPinMismatch => ("statsd_send_errors", "pin_mismatch"),
    StatsdReconnect => ("statsd_reconnects", "reconnected"),
    StatsdGaugeResent => ("statsd_gauges_resent", "last_value"),
    StatsdCircuitOpened => ("statsd_circuit", "opened"),
    StatsdCircuitClosed => ("statsd_circuit", "closed"),
    CollectorPanicked => ("collector_errors", "panicked"),
    ProcessReadFailed => ("collector_errors", "process_read"),
}

/// Help text of each self-metric family.
pub fn family_help(family: &str) -> &'static str {
    match family {
        "label_keys_refused" => "Label keys dropped from a series by the policy, by reason.",
        "label_values_sanitized" => "Label values changed by sanitization or mapped to `other`, by reason.",
        "label_values_redacted" => "Label values that looked like secrets or personal data, by kind.",
        "series_overflowed" => "New label sets folded into a metric's overflow series, by limit.",
        "series_dropped" => "Series dropped or expired, by reason.",
        "values_rejected" => "Recorded values refused (negative or non-finite), by reason.",
        "registrations_refused" => "Metric registrations through the facade refused or rewritten, by reason.",
        "scrape_renders" => "Scrapes that rendered the registry, and scrapes that shared a render already under way.",
        "pushes" => {
            "Pushgateway pushes: sent, retried, failed after every retry, groups deleted, refused for a pin mismatch, \
             skipped while the circuit breaker is open; and the breaker's openings and closings."
        }
        "statsd_points" => "StatsD points (one recorded value or aggregate each): sent, or why dropped.",
        "statsd_lines" => {
            "StatsD lines written to the transport (a negative gauge is two lines in the Etsy and InfluxDB dialects)."
        }
        "statsd_payloads" => "StatsD payloads (datagrams or stream writes) sent.",
        "statsd_bytes" => "StatsD payload bytes sent.",
        "statsd_send_errors" => "StatsD transport errors: failed connects, TLS handshakes, pin mismatches and writes.",
        "statsd_gauges_resent" => {
            "Immediate mode: gauges sent again at a flush because the last line sent was not their value (a dropped or reordered point)."
        }
        "statsd_circuit" => "StatsD circuit breaker state changes: opened after repeated failures, closed by a probe.",
        "statsd_reconnects" => "StatsD stream connections re-established after one was lost.",
        "collector_errors" => "Collectors that failed before a read: panicked, or could not read /proc.",
        "scrapes" => "Scrape requests and connections of the Prometheus endpoint: served, or why refused.",
        _ => "codomyrmex-metrics self-metric.",
    }
}

/// Which part of the crate an event belongs to: the policy and registry's events are always
/// exposed; a backend's only once it runs, a collector's once one is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Core = 1,
    Scrape = 2,
    Push = 4,
    Statsd = 8,
    Collector = 16,
}

impl Event {
    pub(crate) fn group(self) -> Group {
        match self.family() {
            "scrapes" | "scrape_renders" => Group::Scrape,
            "pushes" => Group::Push,
            "collector_errors" => Group::Collector,
            f if f.starts_with("statsd_") || self.reason() == "statsd_wire" => Group::Statsd,
            _ => Group::Core,
        }
    }
}

/// Prefix of every self-metric.
pub const SELF_PREFIX: &str = "codomyrmex_metrics_";

/// Fixed counters, one per [`Event`]. Events of one family must stay together in
/// [`Event::ALL`]: the encoders render each family from one contiguous run (tested).
#[derive(Debug)]
pub struct SelfMetrics {
    counts: Box<[AtomicU64]>,
    /// The [`Group`]s whose events are exposed, as bits.
    active: AtomicU32,
}

impl Default for SelfMetrics {
    fn default() -> Self {
        Self {
            counts: Event::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            active: AtomicU32::new(Group::Core as u32),
        }
    }
}

impl SelfMetrics {
    /// Counts one event.
    #[inline]
    pub fn record(&self, event: Event) {
        self.add(event, 1);
    }

    /// Counts `n` events.
    pub fn add(&self, event: Event, n: u64) {
        if let Some(c) = self.counts.get(event as usize) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// How many times `event` happened.
    pub fn get(&self, event: Event) -> u64 {
        self.counts.get(event as usize).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Calls `f(event, count)` for every event of what runs (the policy and registry always;
    /// a backend once it started; collectors once one is registered), in [`Event::ALL`] order.
    pub fn for_each(&self, mut f: impl FnMut(Event, u64)) {
        let active = self.active.load(Ordering::Relaxed);
        for (e, c) in Event::ALL.iter().zip(self.counts.iter()) {
            if active & e.group() as u32 != 0 {
                f(*e, c.load(Ordering::Relaxed));
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
    use super::Event;

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
}
