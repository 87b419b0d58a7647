//! Stage 4: the sensitive-data guard. Label keys that name secrets or personal data are
//! refused; values that look like secrets or personal data are redacted, dropped or hashed.
//!
//! Each detector has a file: `patterns` (fixed shapes: e-mail, JWT, `Authorization`
//! credentials, provider tokens, UUIDs, IP addresses), `card` (issuer prefix, length and Luhn)
//! and `token` (random-looking tokens without a prefix). They are measured on the corpora in
//! checks/tests/data, both ways: docs/policy.md has the figures and what is deliberately not detected.

mod card;
mod patterns;
#[cfg(test)]
mod test_values;
mod token;

use std::hash::{Hash, Hasher};

/// What replaces a redacted value.
pub const REDACTED_VALUE: &str = "[REDACTED]";

/// Key words refused by default, matched against the key's `_`-separated words
/// (case-insensitive), so `user_email` and `Password` are refused but `tokenizer` is not.
pub const DEFAULT_SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "auth",
    "cookie",
    "session",
    "email",
    "ssn",
    "apikey",
    "api_key",
    "access_key",
    "private_key",
    "credential",
    "credentials",
    "credit_card",
    "card_number",
];

/// What happens to a value that looks sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SensitiveAction {
    /// The value becomes [`REDACTED_VALUE`] (default).
    #[default]
    Redact,
    /// The whole measurement is dropped: the handle records nothing.
    Drop,
    /// The value becomes `hash:` and 16 hex digits of a keyed hash, stable for one key.
    Hash,
}

/// Why a value was taken for sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SensitiveKind {
    /// An e-mail address.
    Email,
    /// A JSON Web Token.
    Jwt,
    /// An `Authorization`-style credential (`Bearer …`, `Basic …`).
    Bearer,
    /// An API key (known prefixes or a long random-looking token).
    ApiKey,
    /// A Luhn-valid card number.
    CardNumber,
    /// An IP address (only when enabled).
    IpAddress,
    /// A UUID (only when enabled).
    Uuid,
}

impl SensitiveKind {
    /// Every kind, in detection order.
    pub const ALL: [SensitiveKind; 7] =
        [Self::Jwt, Self::Bearer, Self::Email, Self::CardNumber, Self::Uuid, Self::ApiKey, Self::IpAddress];

    /// A short snake_case name, used as a self-metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Jwt => "jwt",
            Self::Bearer => "bearer",
            Self::ApiKey => "api_key",
            Self::CardNumber => "card_number",
            Self::IpAddress => "ip_address",
            Self::Uuid => "uuid",
        }
    }
}

/// The sensitive-data guard's settings: [`SensitiveGuard::default`], then the `with_*`
/// methods (fields may be read, and set on a guard you hold, but new ones may come).
///
/// ```
/// use codomyrmex_metrics::{SensitiveAction, SensitiveGuard};
/// let guard = SensitiveGuard::default().with_detect_ip(true).with_action(SensitiveAction::Hash);
/// assert!(guard.detect_ip && !guard.detect_uuid);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SensitiveGuard {
    /// Whether the guard runs at all [true].
    pub enabled: bool,
    /// Key words refused (see [`DEFAULT_SENSITIVE_KEYS`]).
    pub keys: Vec<String>,
    /// Redact IP addresses [false].
    pub detect_ip: bool,
    /// Redact UUIDs [false].
    pub detect_uuid: bool,
    /// What to do with a sensitive value \[redact\].
    pub action: SensitiveAction,
    /// Key of the hash used by [`SensitiveAction::Hash`] [random per process].
    pub hash_key: u64,
}

impl Default for SensitiveGuard {
    fn default() -> Self {
        Self {
            enabled: true,
            keys: DEFAULT_SENSITIVE_KEYS.iter().map(|s| (*s).to_owned()).collect(),
            detect_ip: false,
            detect_uuid: false,
            action: SensitiveAction::Redact,
            hash_key: random_key(),
        }
    }
}

fn random_key() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    RandomState::new().hash_one(std::time::SystemTime::now())
}

impl SensitiveGuard {
    /// Turns the guard on or off \[on\].
    #[must_use]
    pub fn with_enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }

    /// The key words refused [`DEFAULT_SENSITIVE_KEYS`].
    #[must_use]
    pub fn with_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Redacts IP addresses \[off\].
    #[must_use]
    pub fn with_detect_ip(mut self, on: bool) -> Self {
        self.detect_ip = on;
        self
    }

    /// Redacts UUIDs \[off\].
    #[must_use]
    pub fn with_detect_uuid(mut self, on: bool) -> Self {
        self.detect_uuid = on;
        self
    }

    /// What to do with a sensitive value \[redact\].
    #[must_use]
    pub fn with_action(mut self, action: SensitiveAction) -> Self {
        self.action = action;
        self
    }

    /// The key of [`SensitiveAction::Hash`]'s hash [random per process]; fix it to keep hashed
    /// values stable across restarts.
    #[must_use]
    pub fn with_hash_key(mut self, key: u64) -> Self {
        self.hash_key = key;
        self
    }

    /// Whether a label key names sensitive data.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        if !self.enabled {
            return false;
        }
        let lower = key.to_ascii_lowercase();
        let words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
        self.keys.iter().any(|k| {
            let k = k.to_ascii_lowercase();
            if k.contains('_') {
                let joined = words.join("_");
                joined == k
                    || joined.starts_with(&format!("{k}_"))
                    || joined.ends_with(&format!("_{k}"))
                    || joined.contains(&format!("_{k}_"))
            } else {
                words.iter().any(|w| *w == k)
            }
        })
    }

    /// The first kind of sensitive data `value` looks like, if any.
    pub fn detect(&self, value: &str) -> Option<SensitiveKind> {
        if !self.enabled || value.len() < 5 {
            return None;
        }
        let shape = Shape::of(value);
        SensitiveKind::ALL.into_iter().find(|kind| self.matches(*kind, value, shape))
    }

    fn matches(&self, kind: SensitiveKind, value: &str, shape: Shape) -> bool {
        shape.may_hold(kind)
            && match kind {
                SensitiveKind::Jwt => patterns::has_jwt(value),
                SensitiveKind::Bearer => patterns::has_auth_credential(value),
                SensitiveKind::Email => patterns::has_email(value),
                SensitiveKind::CardNumber => card::has_card_number(value),
                SensitiveKind::Uuid => self.detect_uuid && patterns::has_uuid(value),
                SensitiveKind::ApiKey => {
                    (shape.word_run >= patterns::PROVIDER_MIN_RUN || shape.dashes >= 5)
                        && patterns::has_provider_token(value)
                        || token::has_random_token(value)
                }
                SensitiveKind::IpAddress => self.detect_ip && patterns::has_ip_address(value),
            }
    }

    /// The replacement for a sensitive value under [`SensitiveAction::Hash`].
    pub fn hashed(&self, value: &str) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash_key.hash(&mut h);
        value.hash(&mut h);
        format!("hash:{:016x}", h.finish())
    }
}

/// What each detector cannot match without, read in one pass over the value: most label
/// values lack it, and one pass costs less than a look per detector (or a regex search).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shape {
    /// A space or a tab (an `Authorization` credential follows its scheme after one).
    blank: bool,
    /// An `@` (e-mail addresses).
    at: bool,
    /// A `J` (a JWT starts with `eyJ`, the encoded `{"`).
    jay: bool,
    /// ASCII digits (card numbers have at least [`card::MIN_DIGITS`]).
    digits: usize,
    /// Dashes (a PEM header starts with five).
    dashes: usize,
    /// The longest run of `A-Z a-z 0-9 _ . -`: every provider token but a PEM header is one
    /// run of at least [`patterns::PROVIDER_MIN_RUN`] (a path's `/` breaks runs).
    word_run: usize,
}

impl Shape {
    fn of(value: &str) -> Self {
        let mut s = Shape { blank: false, at: false, jay: false, digits: 0, dashes: 0, word_run: 0 };
        let mut word = 0;
        // No early exit and no branch on the byte.
        for &b in value.as_bytes() {
            s.blank |= b == b' ' || b == b'\t';
            s.at |= b == b'@';
            s.jay |= b == b'J';
            s.digits += usize::from(b.is_ascii_digit());
            s.dashes += usize::from(b == b'-');
            word = (word + 1) * usize::from(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            s.word_run = s.word_run.max(word);
        }
        s
    }

    /// Whether a value of this shape can hold `kind` at all.
    fn may_hold(self, kind: SensitiveKind) -> bool {
        match kind {
            SensitiveKind::Jwt => self.jay,
            SensitiveKind::Bearer => self.blank,
            SensitiveKind::Email => self.at,
            SensitiveKind::CardNumber => self.digits >= card::MIN_DIGITS,
            // A random token is judged by its own scan (a look at runs here cost more than it saved).
            SensitiveKind::ApiKey | SensitiveKind::Uuid | SensitiveKind::IpAddress => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_keys_match_whole_words() {
        let g = SensitiveGuard::default();
        for k in ["password", "user_email", "Authorization", "x_api_key", "session_id", "SSN"] {
            assert!(g.is_sensitive_key(k), "{k}");
        }
        for k in ["method", "tokenizer", "route", "status", "author"] {
            assert!(!g.is_sensitive_key(k), "{k}");
        }
    }

    #[test]
    fn detects_each_kind() {
        let g = SensitiveGuard { detect_ip: true, detect_uuid: true, ..Default::default() };
        let cases = [
            ("alice@example.com", SensitiveKind::Email),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig", SensitiveKind::Jwt),
            ("Bearer abc123def456", SensitiveKind::Bearer),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", SensitiveKind::ApiKey),
            ("AKIAIOSFODNN7EXAMPLE", SensitiveKind::ApiKey),
            ("4111 1111 1111 1111", SensitiveKind::CardNumber),
            ("10.1.2.3", SensitiveKind::IpAddress),
            ("2001:db8::1", SensitiveKind::IpAddress),
            ("123e4567-e89b-12d3-a456-426614174000", SensitiveKind::Uuid),
        ];
        for (v, kind) in cases {
            assert_eq!(g.detect(v), Some(kind), "{v}");
        }
    }

    #[test]
    fn ordinary_values_pass() {
        let g = SensitiveGuard { detect_ip: true, detect_uuid: true, ..Default::default() };
        for v in ["GET", "/api/users/:id", "200", "eu-west-1", "4111 1111 1111 1112", "v1.2.3", "12:30:00"] {
            assert_eq!(g.detect(v), None, "{v}");
        }
    }

    #[test]
    fn ip_and_uuid_are_opt_in() {
        let g = SensitiveGuard::default();
        assert_eq!(g.detect("10.1.2.3"), None);
        assert_eq!(g.detect("123e4567-e89b-12d3-a456-426614174000"), None);
    }

    /// Each detector on its own, without the shape's look first.
    fn unfiltered(value: &str) -> Option<SensitiveKind> {
        SensitiveKind::ALL.into_iter().find(|kind| {
            let g = SensitiveGuard { detect_ip: true, detect_uuid: true, ..Default::default() };
            let all_shapes = Shape { jay: true, blank: true, at: true, digits: 99, dashes: 9, word_run: 99 };
            g.matches(*kind, value, all_shapes)
        })
    }

    /// The shape's look never hides what a detector finds: on both corpora, and on values
    /// built from the detectors' own pieces, boundaries and separators.
    #[test]
    fn the_shape_never_hides_a_finding() {
        let g = SensitiveGuard { detect_ip: true, detect_uuid: true, ..Default::default() };
        let pieces = [
            "eyJhbGciOiJIUzI1NiJ9",
            ".",
            "Bearer ",
            "abc123DEF456",
            "a@b.io",
            "4111 1111 1111 1111",
            "xoxb-",
            "AKIA",
            "-----BEGIN ",
            "PRIVATE KEY",
            "q7Zp9XvL2mWc",
            "9f86d081884c7d659a",
            "/",
            "-",
            "_",
            " ",
            "=",
            "é",
            "10.1.2.3",
            "123e4567-e89b-12d3-a456-426614174000",
        ];
        let mut values = test_values::corpora();
        values.extend(test_values::built(&pieces, 20_000, 7, 0x9e37_79b9_7f4a_7c15));
        let mut found = 0;
        for v in &values {
            let expected = if v.len() < 5 { None } else { unfiltered(v) };
            assert_eq!(g.detect(v), expected, "{v:?}");
            found += usize::from(expected.is_some());
        }
        assert!(found > 5_000, "{found}");
    }

    #[test]
    fn hashes_are_stable_per_key() {
        let g = SensitiveGuard { hash_key: 7, ..Default::default() };
        assert_eq!(g.hashed("x"), g.hashed("x"));
        assert_ne!(g.hashed("x"), g.hashed("y"));
        assert!(g.hashed("x").starts_with("hash:"));
    }
}
