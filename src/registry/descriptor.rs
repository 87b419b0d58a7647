//! What a metric family is: name, help, unit, type, label keys, bucket layout.

use std::borrow::Cow;
use std::sync::Arc;

use parking_lot::RwLock;

use super::SelfMetrics;
use crate::storage::Buckets;

/// The three instrument types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Monotonic counter.
    Counter,
    /// Value that goes up and down.
    Gauge,
    /// Fixed-bucket histogram.
    Histogram,
}

impl MetricKind {
    /// `counter`, `gauge` or `histogram`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// A unit, written as the metric name's suffix and in OpenMetrics' `# UNIT` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit(Cow<'static, str>);

impl Unit {
    /// Seconds.
    pub const SECONDS: Unit = Unit(Cow::Borrowed("seconds"));
    /// Bytes.
    pub const BYTES: Unit = Unit(Cow::Borrowed("bytes"));
    /// A ratio from 0 to 1.
    pub const RATIO: Unit = Unit(Cow::Borrowed("ratio"));
    /// Degrees Celsius.
    pub const CELSIUS: Unit = Unit(Cow::Borrowed("celsius"));

    /// Any unit matching `[a-z][a-z0-9_]*`.
    ///
    /// # Errors
    /// [`crate::RegistrationError::InvalidUnit`] for anything else.
    pub fn new(unit: impl Into<String>) -> Result<Self, crate::RegistrationError> {
        let unit = unit.into();
        let ok = unit.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && unit.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && unit.len() <= 64;
        if ok {
            Ok(Unit(Cow::Owned(unit)))
        } else {
            Err(crate::RegistrationError::InvalidUnit { unit })
        }
    }

    /// The unit's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered family's description, shared by its series and handles.
#[derive(Debug)]
pub struct Descriptor {
    /// Exposed base name: prefix applied, unit suffix added, `_total` removed for counters.
    pub(crate) name: Box<str>,
    /// The name as registered, used to look up per-metric policy settings.
    pub(crate) policy_name: Box<str>,
    pub(crate) help: RwLock<Arc<str>>,
    pub(crate) unit: Option<Unit>,
    pub(crate) kind: MetricKind,
    /// Declared keys; `None` for a facade family, whose keys come with each label set.
    pub(crate) keys: Option<Box<[Box<str>]>>,
    pub(crate) buckets: Option<Buckets>,
    pub(crate) events: Arc<SelfMetrics>,
    pub(crate) reject_invalid: bool,
}

impl Descriptor {
    /// The exposed base name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The help text.
    pub fn help(&self) -> Arc<str> {
        Arc::clone(&self.help.read())
    }

    /// The type.
    pub fn kind(&self) -> MetricKind {
        self.kind
    }

    /// The unit.
    pub fn unit(&self) -> Option<&Unit> {
        self.unit.as_ref()
    }
}
