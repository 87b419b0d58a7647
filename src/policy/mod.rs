//! The policy: a fixed sequence of stages run once when a series is first resolved.
//!
//! Order: [`validate`] (grammar, reserved keys) → [`allowlist`] (keys, then values) →
//! [`sanitize`] (control characters, length) → [`sensitive`] (keys refused, values redacted) →
//! [`cardinality`] (limits, overflow series; applied by the registry, which knows the counts).
//! The decision is cached with the handle, so increments never run it.

pub mod allowlist;
pub mod cardinality;
pub mod sanitize;
pub mod sensitive;
pub mod validate;

use std::borrow::Cow;
use std::collections::HashMap;

pub use allowlist::{KeyAllowlist, ValueAllowlist, OTHER_VALUE};
pub use cardinality::{Overflow, OVERFLOW_LABEL};
pub use sensitive::{SensitiveAction, SensitiveGuard, SensitiveKind, REDACTED_VALUE};

use crate::registry::Event;

/// Default cap on a label value, in bytes.
pub const DEFAULT_MAX_LABEL_VALUE_LEN: usize = 128;

/// How far past the length cap the sensitive-data guard reads a value.
const DETECT_WINDOW: usize = 1024;

/// The security policy every series passes. Start from [`Policy::default`] (secure defaults)
/// and adjust with the `with_*` methods.
///
/// Metric names given to per-metric settings are the names you register, before any prefix.
///
/// ```
/// use codomyrmex_metrics::{Policy, ValueAllowlist};
/// let policy = Policy::default()
///     .with_max_series_per_metric(500)
///     .with_value_allowlist("method", ValueAllowlist::set(["GET", "POST"]))
///     .with_metric_keys("http_requests", ["method", "status"]);
/// ```
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) max_value_len: usize,
    pub(crate) max_series_per_metric: usize,
    pub(crate) max_series_total: usize,
    pub(crate) metric_series_limits: HashMap<String, usize>,
    pub(crate) global_keys: Option<KeyAllowlist>,
    pub(crate) metric_keys: HashMap<String, KeyAllowlist>,
    pub(crate) value_allowlists: HashMap<String, ValueAllowlist>,
    pub(crate) metric_value_allowlists: HashMap<(String, String), ValueAllowlist>,
    pub(crate) sensitive: SensitiveGuard,
    pub(crate) reject_invalid_values: bool,
    /// Keys of the registry's global labels: a series may not set them itself.
    pub(crate) global_label_keys: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_value_len: DEFAULT_MAX_LABEL_VALUE_LEN,
            max_series_per_metric: cardinality::DEFAULT_MAX_SERIES_PER_METRIC,
            max_series_total: cardinality::DEFAULT_MAX_SERIES_TOTAL,
            metric_series_limits: HashMap::new(),
            global_keys: None,
            metric_keys: HashMap::new(),
            value_allowlists: HashMap::new(),
            metric_value_allowlists: HashMap::new(),
            sensitive: SensitiveGuard::default(),
            reject_invalid_values: true,
            global_label_keys: Vec::new(),
        }
    }
}

impl Policy {
    /// Caps label values at `bytes` \[128\] (at least 1, at most 1 MiB).
    #[must_use]
    pub fn with_max_label_value_len(mut self, bytes: usize) -> Self {
        self.max_value_len = bytes.clamp(1, crate::registry::MAX_PART_LEN);
        self
    }

    /// Series per metric before the overflow series \[2000\] (at least 1).
    #[must_use]
    pub fn with_max_series_per_metric(mut self, n: usize) -> Self {
        self.max_series_per_metric = n.max(1);
        self
    }

    /// Series limit for one metric, overriding the per-metric default.
    #[must_use]
    pub fn with_metric_series_limit(mut self, metric: &str, n: usize) -> Self {
        self.metric_series_limits.insert(metric.to_owned(), n.max(1));
        self
    }

    /// Series in the whole registry before new label sets overflow \[100,000\] (at least 1).
    #[must_use]
    pub fn with_max_series_total(mut self, n: usize) -> Self {
        self.max_series_total = n.max(1);
        self
    }

    /// Allows only these label keys on every metric [off: all valid keys].
    #[must_use]
    pub fn with_global_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.global_keys = Some(KeyAllowlist::new(keys));
        self
    }

    /// Allows only these label keys on `metric` (overrides the global allowlist for it).
    #[must_use]
    pub fn with_metric_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, metric: &str, keys: I) -> Self {
        self.metric_keys.insert(metric.to_owned(), KeyAllowlist::new(keys));
        self
    }

    /// Values of label `key` outside `allowlist` become `other`, on every metric.
    #[must_use]
    pub fn with_value_allowlist(mut self, key: &str, allowlist: ValueAllowlist) -> Self {
        self.value_allowlists.insert(key.to_owned(), allowlist);
        self
    }

    /// Values of label `key` on `metric` outside `allowlist` become `other`.
    #[must_use]
    pub fn with_metric_value_allowlist(mut self, metric: &str, key: &str, allowlist: ValueAllowlist) -> Self {
        self.metric_value_allowlists.insert((metric.to_owned(), key.to_owned()), allowlist);
        self
    }

    /// Replaces the sensitive-data guard's settings.
    #[must_use]
    pub fn with_sensitive_guard(mut self, guard: SensitiveGuard) -> Self {
        self.sensitive = guard;
        self
    }

    /// Sets what happens to sensitive values \[redact\].
    #[must_use]
    pub fn with_sensitive_action(mut self, action: SensitiveAction) -> Self {
        self.sensitive.action = action;
        self
    }

    /// Redacts IP addresses in label values \[off\].
    #[must_use]
    pub fn with_redact_ip_addresses(mut self, on: bool) -> Self {
        self.sensitive.detect_ip = on;
        self
    }

    /// Redacts UUIDs in label values \[off\].
    #[must_use]
    pub fn with_redact_uuids(mut self, on: bool) -> Self {
        self.sensitive.detect_uuid = on;
        self
    }

    /// Refuses negative or non-finite counter increments, non-finite observations and NaN
    /// gauges \[on\]. Off, they are recorded as given.
    #[must_use]
    pub fn with_reject_invalid_values(mut self, on: bool) -> Self {
        self.reject_invalid_values = on;
        self
    }

    /// The series limit for `metric`.
    pub fn series_limit(&self, metric: &str) -> usize {
        self.metric_series_limits.get(metric).copied().unwrap_or(self.max_series_per_metric)
    }

    /// The registry-wide series limit.
    pub fn max_series_total(&self) -> usize {
        self.max_series_total
    }

    /// The cap on label values, in bytes.
    pub fn max_label_value_len(&self) -> usize {
        self.max_value_len
    }

    /// Whether invalid values are refused.
    pub fn rejects_invalid_values(&self) -> bool {
        self.reject_invalid_values
    }

    /// The sensitive-data guard.
    pub fn sensitive_guard(&self) -> &SensitiveGuard {
        &self.sensitive
    }

    fn key_allowed(&self, metric: &str, key: &str) -> bool {
        match self.metric_keys.get(metric) {
            Some(list) => list.allows(key),
            None => self.global_keys.as_ref().is_none_or(|l| l.allows(key)),
        }
    }

    fn value_allowlist(&self, metric: &str, key: &str) -> Option<&ValueAllowlist> {
        if self.metric_value_allowlists.is_empty() {
            return self.value_allowlists.get(key);
        }
        self.metric_value_allowlists
            .get(&(metric.to_owned(), key.to_owned()))
            .or_else(|| self.value_allowlists.get(key))
    }

    /// Runs the label stages on `pairs` for `metric`. Keys from a declared schema were checked
    /// at registration; `dynamic_keys` re-checks keys coming from the facade.
    /// Writes the final pairs into `out` (written in place: a set of four labels is about 200
    /// bytes, which a return value copied twice); `false` when the measurement is dropped.
    ///
    /// The pairs come borrowed and go out borrowed wherever the policy left them alone: a new
    /// label set allocates only for what it changes.
    pub(crate) fn apply_labels<'a>(
        &self,
        metric: &str,
        pairs: &[(&'a str, &'a str)],
        dynamic_keys: bool,
        report: &mut dyn FnMut(Event, &str),
        out: &mut FinalPairs<'a>,
    ) -> bool {
        out.clear();
        for &(key, value) in pairs {
            if dynamic_keys {
                if validate::is_reserved_label_key(key) {
                    report(Event::ReservedKey, key);
                    continue;
                }
                if !validate::is_valid_label_key(key) {
                    report(Event::InvalidKey, key);
                    continue;
                }
                if self.global_label_keys.iter().any(|g| g == key) {
                    report(Event::ReservedKey, key);
                    continue;
                }
                if self.sensitive.is_sensitive_key(key) {
                    report(Event::SensitiveKey, key);
                    continue;
                }
            }
            if !self.key_allowed(metric, key) {
                report(Event::KeyNotAllowed, key);
                continue;
            }
            // Control characters go first; the guard then sees the value before it is cut,
            // so a secret that straddles the cut is still found and a digest cut short is
            // still a digest. It reads at most `DETECT_WINDOW` bytes past the cap: nothing
            // further can reach the output.
            let (mut value, what) = sanitize::sanitize_value(value, usize::MAX);
            if what.removed_control {
                report(Event::ControlChars, key);
            }
            if let Some(list) = self.value_allowlist(metric, key) {
                if !list.allows(&value) {
                    report(Event::ValueNotAllowed, key);
                    value = Cow::Borrowed(OTHER_VALUE);
                }
            }
            let window = sanitize::cut_to(&value, self.max_value_len.saturating_add(DETECT_WINDOW)).unwrap_or(&value);
            if let Some(kind) = self.sensitive.detect(window) {
                report(redaction_event(kind), key);
                match self.sensitive.action {
                    SensitiveAction::Redact => value = Cow::Borrowed(REDACTED_VALUE),
                    SensitiveAction::Hash => value = Cow::Owned(self.sensitive.hashed(&value)),
                    SensitiveAction::Drop => {
                        report(Event::SeriesDropped, key);
                        out.clear();
                        return false;
                    }
                }
            }
            if let Some(cut) = sanitize::cut_to(&value, self.max_value_len) {
                report(Event::Truncated, key);
                value = Cow::Owned(cut.to_owned());
            }
            // Prometheus reads `k=""` as no label at all: keeping it would make two series
            // that one ingestion merges (and one of them is lost).
            if !value.is_empty() {
                out.push((Cow::Borrowed(key), value));
            }
        }
        if dynamic_keys {
            // Stable: of a key given twice, the first value stays.
            out.sort_by(|a, b| a.0.cmp(&b.0));
            let mut i = 1;
            while i < out.len() {
                if out[i].0 == out[i - 1].0 {
                    report(Event::DuplicateKey, &out[i].0);
                    out.remove(i);
                } else {
                    i += 1;
                }
            }
            // As many keys as a typed family may declare; the rest (last in key order) go.
            for (key, _) in out.drain(crate::instrument::MAX_LABEL_KEYS.min(out.len())..) {
                report(Event::TooManyKeys, &key);
            }
        }
        true
    }
}

/// A label set after the policy: on the stack for up to four labels, the usual case, so a
/// new series allocates only what it keeps.
pub(crate) type FinalPairs<'a> = smallvec::SmallVec<[(Cow<'a, str>, Cow<'a, str>); 4]>;

/// The self-metric event for a redaction of `kind`.
pub(crate) fn redaction_event(kind: SensitiveKind) -> Event {
    match kind {
        SensitiveKind::Email => Event::RedactedEmail,
        SensitiveKind::Jwt => Event::RedactedJwt,
        SensitiveKind::Bearer => Event::RedactedBearer,
        SensitiveKind::ApiKey => Event::RedactedApiKey,
        SensitiveKind::CardNumber => Event::RedactedCard,
        SensitiveKind::IpAddress => Event::RedactedIp,
        SensitiveKind::Uuid => Event::RedactedUuid,
    }
}
