//! Stage 2: label-key allowlists (keys not allowed are dropped from the series) and
//! label-value allowlists (values not allowed become [`OTHER_VALUE`]).

use std::collections::HashSet;

use regex::Regex;

/// What a value outside its allowlist becomes.
pub const OTHER_VALUE: &str = "other";

/// The values a label key may take.
#[derive(Debug, Clone)]
pub enum ValueAllowlist {
    /// Exactly these values.
    Set(HashSet<String>),
    /// Values the whole of which match this pattern (it is anchored by the crate).
    Pattern(Regex),
}

impl ValueAllowlist {
    /// An allowlist of fixed values.
    pub fn set<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::Set(values.into_iter().map(Into::into).collect())
    }

    /// An allowlist by pattern; the pattern must match the whole value.
    ///
    /// # Errors
    /// The pattern does not compile.
    pub fn pattern(pattern: &str) -> Result<Self, regex::Error> {
        Regex::new(&format!("^(?:{pattern})$")).map(Self::Pattern)
    }

    /// Whether `value` is allowed.
    pub fn allows(&self, value: &str) -> bool {
        match self {
            Self::Set(set) => set.contains(value),
            Self::Pattern(re) => re.is_match(value),
        }
    }
}

/// A set of allowed label keys.
#[derive(Debug, Clone, Default)]
pub struct KeyAllowlist {
    keys: HashSet<String>,
}

impl KeyAllowlist {
    /// Allows exactly these keys.
    pub fn new<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self { keys: keys.into_iter().map(Into::into).collect() }
    }

    /// Whether `key` is allowed.
    pub fn allows(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// The allowed keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_patterns_are_anchored() {
        let a = ValueAllowlist::pattern("[0-9]{3}").unwrap();
        assert!(a.allows("200"));
        assert!(!a.allows("2000"));
        assert!(!a.allows("x200"));
    }

    #[test]
    fn value_sets_match_exactly() {
        let a = ValueAllowlist::set(["GET", "POST"]);
        assert!(a.allows("GET"));
        assert!(!a.allows("get"));
    }
}
