//! Registration: names, conflicts and the sample names each family claims.

use std::sync::Arc;

use parking_lot::RwLock;

use super::family::Family;
use super::{Descriptor, Event, FamilyRef, MetricKind, Registry, Unit};
use crate::error::RegistrationError;
use crate::policy::validate;
use crate::storage::{Buckets, CounterCell, GaugeCell, HistogramCell};

/// Longest help text kept, in bytes; longer help is cut on a character boundary.
pub const MAX_HELP_LEN: usize = 1024;

/// What to register: name, help, and optionally unit, label keys and buckets.
///
/// ```
/// use codomyrmex_metrics::{MetricOpts, Registry, Unit};
/// let registry = Registry::default();
/// let latency = registry
///     .register_histogram(MetricOpts::new("request_duration", "Request latency.").unit(Unit::SECONDS).labels(["route"]))
///     .unwrap();
/// latency.with(&["/users/:id"]).observe(0.042);
/// ```
#[derive(Debug, Clone)]
pub struct MetricOpts {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<Unit>,
    pub(crate) keys: Vec<String>,
    pub(crate) buckets: Option<Buckets>,
    pub(crate) sharded: bool,
}

impl MetricOpts {
    /// A metric with a name and help text.
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self { name: name.into(), help: help.into(), unit: None, keys: Vec::new(), buckets: None, sharded: false }
    }

    /// For counters: spread each series over one cache line per core \[off\], so many threads
    /// adding to one counter do not contend. It costs about 64 bytes per core per series;
    /// use it for the few counters every request touches. Histograms are always sharded.
    #[must_use]
    pub fn sharded(mut self) -> Self {
        self.sharded = true;
        self
    }

    /// The unit; the name gets its suffix if it lacks it (`latency` → `latency_seconds`).
    #[must_use]
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self
    }

    /// The label keys; they are the metric's allowlist and their order is the value order.
    #[must_use]
    pub fn labels<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// The histogram layout [the registry's layout for this name].
    #[must_use]
    pub fn buckets(mut self, buckets: Buckets) -> Self {
        self.buckets = Some(buckets);
        self
    }
}

/// Help text keeps line feeds (escaped on output) but no other control character, loses
/// leading and trailing white space (parsers drop it), and is capped at [`MAX_HELP_LEN`] bytes
/// on a character boundary.
fn cap_help(help: &str) -> Arc<str> {
    let clean: String = help.chars().filter(|c| *c == '\n' || !c.is_control()).collect();
    let clean = clean.trim();
    let mut cut = clean.len().min(MAX_HELP_LEN);
    while !clean.is_char_boundary(cut) {
        cut -= 1;
    }
    Arc::from(&clean[..cut])
}

/// The sample names a family of `kind` with base `name` renders, in either format.
fn sample_names(kind: MetricKind, name: &str) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        MetricKind::Counter => &["", "_total", "_created"],
        MetricKind::Gauge => &[""],
        MetricKind::Histogram => &["", "_bucket", "_sum", "_count", "_created"],
    };
    suffixes.iter().map(|s| format!("{name}{s}")).collect()
}

impl Registry {
    /// Exposed base name: prefix (never on the crate's own metrics), unit suffix, and `_total`
    /// removed for counters.
    fn exposed_name(&self, name: &str, kind: MetricKind, unit: Option<&Unit>, internal: bool) -> String {
        let prefix = if internal || name.starts_with(validate::RESERVED_PREFIX) { "" } else { &*self.inner.prefix };
        let mut base = format!("{prefix}{name}");
        if kind == MetricKind::Counter {
            if let Some(stripped) = base.strip_suffix("_total") {
                base.truncate(stripped.len());
            }
        }
        if let Some(u) = unit {
            let suffix = format!("_{}", u.as_str());
            if !base.ends_with(&suffix) {
                base.push_str(&suffix);
            }
        }
        base
    }

    /// Registers (or finds the identical) family; `keys == None` makes a facade family.
    pub(crate) fn register_family(
        &self,
        kind: MetricKind,
        opts: MetricOpts,
        keys: Option<Vec<String>>,
    ) -> Result<FamilyRef, RegistrationError> {
        self.register_family_inner(kind, opts, keys, false)
    }

    /// A histogram under the reserved prefix, for the crate's own exporters (scrape durations).
    #[cfg_attr(not(feature = "_http-server"), allow(dead_code))]
    pub(crate) fn internal_histogram(&self, name: &str, help: &str, buckets: Buckets) -> crate::Histogram {
        let opts = MetricOpts::new(name, help).buckets(buckets);
        match self.register_family_inner(MetricKind::Histogram, opts, Some(Vec::new()), true) {
            Ok(FamilyRef::Histogram(fam)) => crate::Histogram { inner: fam.get(&[]) },
            _ => crate::Histogram::noop(),
        }
    }

    /// A family without labels under a conventional name that the registry's prefix must not
    /// change (the process metrics: `process_cpu_seconds_total`, …).
    #[cfg_attr(not(all(feature = "process", target_os = "linux")), allow(dead_code))]
    pub(crate) fn register_conventional(
        &self,
        kind: MetricKind,
        opts: MetricOpts,
    ) -> Result<FamilyRef, RegistrationError> {
        self.register_family_inner(kind, opts, Some(Vec::new()), true)
    }

    fn register_family_inner(
        &self,
        kind: MetricKind,
        opts: MetricOpts,
        keys: Option<Vec<String>>,
        internal: bool,
    ) -> Result<FamilyRef, RegistrationError> {
        let name = opts.name;
        if !validate::is_valid_metric_name(&name) {
            return Err(RegistrationError::InvalidName { name });
        }
        if name.starts_with(validate::RESERVED_PREFIX) && !internal {
            return Err(RegistrationError::ReservedName { name });
        }
        let guard = &self.inner.shared.policy.sensitive;
        if let Some(kind) = guard.detect(&name) {
            return Err(RegistrationError::SensitiveName { kind: kind.as_str() });
        }
        if let Some(kind) = guard.detect(&opts.help) {
            return Err(RegistrationError::SensitiveHelp { name, kind: kind.as_str() });
        }
        if let Some(keys) = &keys {
            self.check_keys(&name, keys)?;
        }
        let buckets = match kind {
            MetricKind::Histogram => Some(opts.buckets.unwrap_or_else(|| self.buckets_for(&name))),
            _ => None,
        };
        let base = self.exposed_name(&name, kind, opts.unit.as_ref(), internal);
        let help = cap_help(&opts.help);
        let mut families = self.inner.families.write();
        if let Some(existing) = families.by_name.get(base.as_str()) {
            let d = existing.desc();
            let what = if d.kind != kind {
                Some("type")
            } else if *d.help.read() != help && !help.is_empty() && !d.help.read().is_empty() {
                Some("help")
            } else if d.unit != opts.unit {
                Some("unit")
            } else if d.keys.as_deref().map(|k| k.iter().map(|s| s.to_string()).collect::<Vec<_>>()) != keys {
                Some("label keys")
            } else if d.buckets != buckets {
                Some("buckets")
            } else {
                None
            };
            return match what {
                Some(what) => Err(RegistrationError::Conflict { name, what }),
                None => {
                    if d.help.read().is_empty() && !help.is_empty() {
                        *d.help.write() = help;
                    }
                    Ok(existing.clone())
                }
            };
        }
        if families.by_name.len() >= self.inner.max_families {
            return Err(RegistrationError::TooManyFamilies { limit: self.inner.max_families });
        }
        let from_facade = keys.is_none();
        if from_facade && families.facade_created >= self.inner.max_facade_families {
            return Err(RegistrationError::TooManyFamilies { limit: self.inner.max_facade_families });
        }
        let samples = sample_names(kind, &base);
        if let Some((sample, other)) =
            samples.iter().find_map(|s| families.claimed.get(s.as_str()).map(|o| (s.clone(), o.to_string())))
        {
            return Err(RegistrationError::NameClash { name, sample, other });
        }
        let shared = Arc::clone(&self.inner.shared);
        let desc = Arc::new(Descriptor {
            name: base.clone().into_boxed_str(),
            policy_name: name.into_boxed_str(),
            help: RwLock::new(help),
            unit: opts.unit,
            kind,
            keys: keys.map(|k| k.into_iter().map(String::into_boxed_str).collect()),
            buckets: buckets.clone(),
            events: Arc::clone(&shared.events),
            reject_invalid: shared.policy.reject_invalid_values,
        });
        let family = match kind {
            MetricKind::Counter => {
                let new_cell = if opts.sharded { CounterCell::sharded } else { CounterCell::new };
                FamilyRef::Counter(Arc::new(Family::new(desc, shared, Box::new(new_cell))))
            }
            MetricKind::Gauge => FamilyRef::Gauge(Arc::new(Family::new(desc, shared, Box::new(GaugeCell::new)))),
            MetricKind::Histogram => {
                let b = buckets.unwrap_or_default();
                FamilyRef::Histogram(Arc::new(Family::new(desc, shared, Box::new(move || HistogramCell::new(&b)))))
            }
        };
        for s in samples {
            families.claimed.insert(s.into_boxed_str(), base.clone().into_boxed_str());
        }
        families.by_name.insert(base.into_boxed_str(), family.clone());
        families.facade_created += usize::from(from_facade);
        Ok(family)
    }

    fn check_keys(&self, name: &str, keys: &[String]) -> Result<(), RegistrationError> {
        let policy = &self.inner.shared.policy;
        for (i, key) in keys.iter().enumerate() {
            let err = |k: &str| (name.to_owned(), k.to_owned());
            if !validate::is_valid_label_key(key) || validate::is_reserved_label_key(key) {
                let (name, key) = err(key);
                return Err(RegistrationError::InvalidLabelKey { name, key });
            }
            if policy.sensitive.is_sensitive_key(key) {
                let (name, key) = err(key);
                return Err(RegistrationError::SensitiveLabelKey { name, key });
            }
            if keys[..i].contains(key) {
                let (name, key) = err(key);
                return Err(RegistrationError::DuplicateLabelKey { name, key });
            }
            if self.inner.global_pairs.iter().any(|(g, _)| g == key) {
                let (name, key) = err(key);
                return Err(RegistrationError::GlobalLabelKey { name, key });
            }
        }
        Ok(())
    }

    /// The family behind a facade name, registering it on first use. `None` when refused
    /// (counted in self-metrics). One read-locked hash lookup once the name is known.
    pub(crate) fn facade_family(&self, kind: MetricKind, name: &str) -> Option<FamilyRef> {
        if let Some(found) = self.inner.facade.read().get(name) {
            // `None`: the name was refused when first seen, and counted then.
            let family = found.as_ref()?;
            if family.desc().kind != kind {
                self.inner.shared.events.record(Event::TypeConflict);
                return None;
            }
            return Some(family.clone());
        }
        self.facade_family_slow(kind, name)
    }

    #[cold]
    fn facade_family_slow(&self, kind: MetricKind, name: &str) -> Option<FamilyRef> {
        let events = &self.inner.shared.events;
        // The name as written, before it is rewritten: `logins_alice@example.com` would lose
        // what makes it recognisable. Refused names are remembered (as `None`) and never logged.
        if self.inner.shared.policy.sensitive.detect(name).is_some() {
            events.record(Event::SensitiveName);
            self.remember_facade_name(name, None);
            return None;
        }
        let clean = sanitize_name(name);
        if clean != name {
            events.record(Event::NameSanitized);
            tracing::debug!(name = %clean, "facade metric name rewritten into the Prometheus grammar");
        }
        let described = self.inner.descriptions.lock().get(clean.as_str()).cloned();
        let (help, unit) = described.unwrap_or_else(|| (Arc::from(""), None));
        let mut opts = MetricOpts::new(clean, help.to_string());
        // A described unit is kept: the exposed name gets its suffix, as in the typed API
        // (OpenMetrics wants a metric with a UNIT to end in it).
        opts.unit = unit;
        // A name registered through the typed API keeps its declared keys.
        let found = match self.register_family(kind, opts.clone(), None) {
            Ok(f) => Some(f),
            Err(RegistrationError::Conflict { what: "label keys", .. }) => {
                let base = self.exposed_name(&opts.name, kind, opts.unit.as_ref(), false);
                self.inner.families.read().by_name.get(base.as_str()).filter(|f| f.desc().kind == kind).cloned()
            }
            Err(RegistrationError::Conflict { what: "type", .. } | RegistrationError::NameClash { .. }) => {
                tracing::warn!(name = %opts.name, kind = kind.as_str(), "facade metric used with a second type; these calls record nothing");
                events.record(Event::TypeConflict);
                None
            }
            Err(RegistrationError::TooManyFamilies { .. }) => {
                events.record(Event::RegistryFull);
                return None;
            }
            Err(RegistrationError::SensitiveName { .. }) => {
                events.record(Event::SensitiveName);
                None
            }
            Err(_) => {
                events.record(Event::InvalidName);
                None
            }
        };
        self.remember_facade_name(name, found.clone());
        found
    }

    fn remember_facade_name(&self, name: &str, found: Option<FamilyRef>) {
        // Names past the grammar's length are not kept: they take the slow path each time.
        if name.len() > validate::MAX_NAME_LEN {
            return;
        }
        let mut facade = self.inner.facade.write();
        if facade.len() < self.inner.max_families.saturating_mul(2) {
            facade.insert(Box::from(name), found);
        }
    }

    /// Records help and unit for a facade name (`describe_*!`). Applies now if the family
    /// exists, else when it is first used.
    pub(crate) fn describe(&self, name: &str, unit: Option<Unit>, help: &str) {
        let guard = &self.inner.shared.policy.sensitive;
        let help = if guard.detect(help).is_some() {
            self.inner.shared.events.record(Event::SensitiveHelp);
            Arc::from("")
        } else {
            cap_help(help)
        };
        {
            // Kept under the name the family gets (rewritten, at most 200 bytes), so a long
            // name costs no more than a short one.
            let clean = sanitize_name(name);
            let mut d = self.inner.descriptions.lock();
            if d.len() < self.inner.max_families || d.contains_key(clean.as_str()) {
                d.insert(clean.into_boxed_str(), (Arc::clone(&help), unit));
            }
        }
        if let Some(Some(f)) = self.inner.facade.read().get(name) {
            *f.desc().help.write() = help;
        }
    }
}

/// Rewrites a facade name into the metric-name grammar: every other character becomes `_`,
/// and a leading digit gets a `_` before it. An empty name becomes `_`.
pub(crate) fn sanitize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit());
        if i == 0 && c.is_ascii_digit() {
            out.push('_');
            out.push(c);
        } else {
            out.push(if ok { c } else { '_' });
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    out.truncate(validate::MAX_NAME_LEN);
    out
}
