//! Building a registry.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use super::{Clock, Inner, Registry, SelfMetrics, Shared, SystemClock, DEFAULT_MAX_FAMILIES};
use crate::error::ConfigError;
use crate::policy::{validate, Policy};
use crate::storage::Buckets;

/// Builds a [`Registry`]. Infallible setters are `#[must_use]`; fallible ones return `Result`.
///
/// ```
/// use codomyrmex_metrics::{Buckets, Policy, Registry};
/// let registry = Registry::builder()
///     .policy(Policy::default().with_max_series_per_metric(100))
///     .prefix("shop").unwrap()
///     .global_label("env", "prod").unwrap()
///     .buckets_for_prefix("db_", Buckets::exponential(0.001, 2.0, 12).unwrap())
///     .build();
/// # let _ = registry;
/// ```
#[derive(Debug, Default)]
pub struct RegistryBuilder {
    policy: Policy,
    prefix: String,
    global: Vec<(String, String)>,
    idle_timeout: Option<Duration>,
    clock: Option<Arc<dyn Clock>>,
    default_buckets: Option<Buckets>,
    buckets_by_prefix: Vec<(String, Buckets)>,
    max_families: Option<usize>,
    max_facade_families: Option<usize>,
    disabled: bool,
    observers: Vec<Arc<dyn super::SeriesObserver>>,
}

impl RegistryBuilder {
    /// The policy every series passes [`Policy::default`].
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// A prefix for every metric name (`shop` makes `requests` into `shop_requests`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the prefix breaks the metric-name grammar or is reserved.
    pub fn prefix(mut self, prefix: &str) -> Result<Self, ConfigError> {
        let p = prefix.trim_end_matches('_');
        if !validate::is_valid_metric_name(p) || p.starts_with(validate::RESERVED_PREFIX.trim_end_matches('_')) {
            return Err(ConfigError::Invalid {
                setting: "prefix",
                reason: format!("{prefix:?} is not a valid, unreserved metric-name prefix"),
            });
        }
        self.prefix = format!("{p}_");
        Ok(self)
    }

    /// A label added to every series of every metric.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the key is invalid, reserved, sensitive or repeated, or the
    /// value is empty, has control characters, exceeds the value cap or looks sensitive.
    pub fn global_label(mut self, key: &str, value: &str) -> Result<Self, ConfigError> {
        let bad = |reason: String| ConfigError::Invalid { setting: "global_label", reason };
        if !validate::is_valid_label_key(key) || validate::is_reserved_label_key(key) {
            return Err(bad(format!("{key:?}: {}", validate::key_rule())));
        }
        if self.policy.sensitive.is_sensitive_key(key) {
            return Err(bad(format!("{key:?} names sensitive data")));
        }
        if self.global.iter().any(|(k, _)| k == key) {
            return Err(bad(format!("{key:?} is given twice")));
        }
        if value.is_empty() || value.chars().any(char::is_control) || value.len() > self.policy.max_value_len {
            return Err(bad(format!(
                "the value of {key:?} must be non-empty, without control characters, at most {} bytes",
                self.policy.max_value_len
            )));
        }
        if self.policy.sensitive.detect(value).is_some() {
            return Err(bad(format!("the value of {key:?} looks like sensitive data")));
        }
        self.global.push((key.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Removes series idle for `timeout` that no handle holds \[off\]. A series is idle when its
    /// value has not changed between two upkeep runs `timeout` apart.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// The clock used for expiry [the system's monotonic clock].
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The layout of histograms with no explicit buckets [Prometheus' default].
    #[must_use]
    pub fn default_buckets(mut self, buckets: Buckets) -> Self {
        self.default_buckets = Some(buckets);
        self
    }

    /// The layout of histograms (from the facade or without explicit buckets) whose name starts
    /// with `prefix`; a full name is a prefix too. The longest matching prefix wins.
    #[must_use]
    pub fn buckets_for_prefix(mut self, prefix: &str, buckets: Buckets) -> Self {
        self.buckets_by_prefix.push((prefix.to_owned(), buckets));
        self
    }

    /// The most metric families the registry holds \[10,000\].
    #[must_use]
    pub fn max_families(mut self, n: usize) -> Self {
        self.max_families = Some(n.max(1));
        self
    }

    /// The most metric families the `metrics` facade may create [half of
    /// [`Self::max_families`]]: a flood of dynamic names then leaves the rest for the
    /// application's own registrations.
    #[must_use]
    pub fn max_facade_families(mut self, n: usize) -> Self {
        self.max_facade_families = Some(n);
        self
    }

    /// Makes every handle a no-op (the no-op backend). Registration still validates names.
    #[must_use]
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }

    /// Adds an observer of every new series' single events (see [`super::SeriesObserver`]);
    /// `get_metrics` adds the ones its backends bring.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn super::SeriesObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Builds the registry.
    pub fn build(self) -> Registry {
        let mut policy = self.policy;
        let max_families = self.max_families.unwrap_or(DEFAULT_MAX_FAMILIES);
        policy.global_label_keys = self.global.iter().map(|(k, _)| k.clone()).collect();
        let observers = self.observers.into_boxed_slice();
        let registry = Registry {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared {
                    policy,
                    events: Arc::new(SelfMetrics::default()),
                    total: AtomicUsize::new(0),
                    cached_keys: AtomicUsize::new(0),
                    clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock::default())),
                    disabled: self.disabled,
                    observers: observers.clone(),
                    global_pairs: self.global.clone().into_boxed_slice(),
                }),
                families: RwLock::default(),
                facade: RwLock::default(),
                descriptions: Mutex::new(HashMap::new()),
                prefix: self.prefix.into_boxed_str(),
                global_pairs: self.global,
                idle_timeout: self.idle_timeout,
                default_buckets: self.default_buckets.unwrap_or_default(),
                buckets_by_prefix: self.buckets_by_prefix,
                max_families,
                max_facade_families: self.max_facade_families.unwrap_or(max_families / 2).min(max_families),
                expiry_generation: std::sync::atomic::AtomicU64::new(0),
                collectors: RwLock::new(Arc::from(Vec::new())),
                process_registered: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        for o in observers.iter() {
            o.attach(&registry);
        }
        registry
    }
}
