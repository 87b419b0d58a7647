//! Error types, one enum per group of operations. None of them ever carries a label value:
//! a value may be the very secret the policy kept out.

use crate::storage::BucketsError;

/// Registering a metric failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The name breaks the Prometheus grammar.
    #[error("invalid metric name {name:?}: {}", crate::policy::validate::name_rule())]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// The name uses the crate's reserved prefix.
    #[error("metric name {name:?} uses the reserved prefix `codomyrmex_`")]
    ReservedName {
        /// The name as given.
        name: String,
    },
    /// A declared label key breaks the grammar or is reserved.
    #[error("invalid label key {key:?} for metric {name:?}: {}", crate::policy::validate::key_rule())]
    InvalidLabelKey {
        /// The metric.
        name: String,
        /// The key.
        key: String,
    },
    /// A declared label key names sensitive data (password, token, email, …).
    #[error("label key {key:?} of metric {name:?} names sensitive data and is refused by the sensitive-data guard")]
    SensitiveLabelKey {
        /// The metric.
        name: String,
        /// The key.
        key: String,
    },
    /// The metric name looks like it carries a secret or personal data (the name itself is
    /// not repeated: it may be the secret).
    #[error("a metric name was refused by the sensitive-data guard: it looks like it contains a {kind}")]
    SensitiveName {
        /// What it looked like (`email`, `api_key`, …).
        kind: &'static str,
    },
    /// The help text looks like it carries a secret or personal data.
    #[error(
        "the help text of metric {name:?} was refused by the sensitive-data guard: it looks like it contains a {kind}"
    )]
    SensitiveHelp {
        /// The metric.
        name: String,
        /// What it looked like (`email`, `api_key`, …).
        kind: &'static str,
    },
    /// A label key was declared twice.
    #[error("label key {key:?} is declared twice for metric {name:?}")]
    DuplicateLabelKey {
        /// The metric.
        name: String,
        /// The key.
        key: String,
    },
    /// A label key collides with a global label.
    #[error("label key {key:?} of metric {name:?} is already a global label")]
    GlobalLabelKey {
        /// The metric.
        name: String,
        /// The key.
        key: String,
    },
    /// The name is registered already with a different type, help, unit, keys or buckets.
    #[error("metric {name:?} is already registered with a different {what}")]
    Conflict {
        /// The metric.
        name: String,
        /// What differs: `type`, `help`, `unit`, `label keys` or `buckets`.
        what: &'static str,
    },
    /// The name would render a sample name another family renders (`x_total`, `x_bucket`, …).
    #[error("metric {name:?} would render the sample name {sample:?}, which metric {other:?} already uses")]
    NameClash {
        /// The metric.
        name: String,
        /// The clashing sample name.
        sample: String,
        /// The family that has it.
        other: String,
    },
    /// The unit is not lower-case `[a-z0-9_]`.
    #[error("invalid unit {unit:?}: units are lower-case [a-z][a-z0-9_]*")]
    InvalidUnit {
        /// The unit.
        unit: String,
    },
    /// The histogram layout is invalid.
    #[error("invalid buckets for metric {name:?}: {source}")]
    Buckets {
        /// The metric.
        name: String,
        /// What is wrong.
        #[source]
        source: BucketsError,
    },
    /// The registry holds its maximum number of metric families.
    #[error("the registry already holds its limit of {limit} metric families")]
    TooManyFamilies {
        /// The limit.
        limit: usize,
    },
    /// The registry holds its maximum number of collectors.
    #[error("the registry already holds its limit of {limit} collectors")]
    TooManyCollectors {
        /// The limit.
        limit: usize,
    },
    /// The metrics asked for cannot be read on this platform.
    #[error("{what} are not available on this platform: {reason}")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
        /// Why it is not available.
        reason: &'static str,
    },
}

/// Why the policy changed or refused a label set (returned by the `try_` methods).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The number of label values does not match the declared keys.
    #[error("metric {metric:?} declares {expected} label keys but got {got} values")]
    Arity {
        /// The metric.
        metric: String,
        /// Declared keys.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A label key was dropped (invalid, reserved, sensitive, not allowed or duplicated).
    #[error("label key {key:?} of metric {metric:?} was refused ({reason})")]
    KeyRefused {
        /// The metric.
        metric: String,
        /// The key.
        key: String,
        /// The rule.
        reason: &'static str,
    },
    /// A label value was sanitized, mapped to `other`, redacted, hashed or dropped.
    #[error("the value of label {key:?} of metric {metric:?} was changed by the policy ({reason})")]
    ValueChanged {
        /// The metric.
        metric: String,
        /// The key whose value changed (the value itself is never reported).
        key: String,
        /// The rule.
        reason: &'static str,
    },
    /// The label set went to the overflow series.
    #[error("metric {metric:?} reached its series limit ({reason}); the label set went to the overflow series")]
    Overflow {
        /// The metric.
        metric: String,
        /// Which limit.
        reason: &'static str,
    },
    /// A recorded value was refused.
    #[error("value refused for metric {metric:?} ({reason})")]
    Value {
        /// The metric.
        metric: String,
        /// The rule.
        reason: &'static str,
    },
}

/// Invalid configuration: a bad URL, environment variable or setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The backend URL does not parse.
    #[error("invalid backend URL: {reason}; accepted forms: {accepted}")]
    InvalidUrl {
        /// What is wrong (the URL itself is not repeated: it may hold a secret).
        reason: String,
        /// The accepted forms.
        accepted: &'static str,
    },
    /// The URL scheme is unknown or not compiled in.
    #[error("unknown backend scheme {scheme:?}; accepted schemes: {accepted}")]
    UnknownScheme {
        /// The scheme given.
        scheme: String,
        /// The accepted schemes.
        accepted: &'static str,
    },
    /// An environment variable holds an invalid value.
    #[error("environment variable {var} is invalid: {reason}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A setting is invalid.
    #[error("invalid setting `{setting}`: {reason}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A registration made while building failed.
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    /// An exporter failed to start.
    #[error("exporter {name} failed to start: {source}")]
    Exporter {
        /// The exporter.
        name: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
