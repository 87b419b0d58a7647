//! Stage 4: the sensitive-data guard. Label keys that name secrets or personal data are
//! refused; values that look like secrets or personal data are redacted, dropped or hashed.

use std::hash::{Hash, Hasher};

use once_cell::sync::Lazy;
use regex::Regex;

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

static EMAIL: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").unwrap());
static JWT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*").unwrap());
static BEARER: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b(?:bearer|basic|token|digest)\s+[A-Za-z0-9\-._~+/]{8,}=*").unwrap());
static API_KEY_PREFIXED: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|\bsk-[A-Za-z0-9_\-]{16,}",
        r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}",
        r"|\bxox[abposr]-[A-Za-z0-9\-]{10,}|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_\-]{30,}",
        r"|\bglpat-[A-Za-z0-9_\-]{20,}|\bnpm_[A-Za-z0-9]{30,}"
    ))
    .unwrap()
});
/// A long run from a key alphabet with letters and digits mixed: a generic secret.
static API_KEY_GENERIC: Lazy<Regex> = Lazy::new(|| Regex::new(r"[A-Za-z0-9_\-+/=]{32,}").unwrap());
static UUID: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b").unwrap());
static CARD_CANDIDATE: Lazy<Regex> = Lazy::new(|| Regex::new(r"\d(?:[ \-]?\d){12,18}").unwrap());
static IPV4: Lazy<Regex> = Lazy::new(|| Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b").unwrap());
static IPV6_CANDIDATE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:%\w+)?").unwrap());

/// The sensitive-data guard's settings.
#[derive(Debug, Clone)]
pub struct SensitiveGuard {
    /// Whether the guard runs at all [true].
    pub enabled: bool,
    /// Key words refused (see [`DEFAULT_SENSITIVE_KEYS`]).
    pub keys: Vec<String>,
    /// Redact IP addresses [false].
    pub detect_ip: bool,
    /// Redact UUIDs [false].
    pub detect_uuid: bool,
    /// What to do with a sensitive value [redact].
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
        SensitiveKind::ALL.into_iter().find(|kind| self.matches(*kind, value))
    }

    fn matches(&self, kind: SensitiveKind, value: &str) -> bool {
        match kind {
            SensitiveKind::Jwt => JWT.is_match(value),
            SensitiveKind::Bearer => BEARER.is_match(value),
            SensitiveKind::Email => EMAIL.is_match(value),
            SensitiveKind::CardNumber => CARD_CANDIDATE.find_iter(value).any(|m| luhn_valid(m.as_str())),
            SensitiveKind::Uuid => self.detect_uuid && UUID.is_match(value),
            SensitiveKind::ApiKey => {
                API_KEY_PREFIXED.is_match(value)
                    || API_KEY_GENERIC.find_iter(value).any(|m| {
                        let s = m.as_str();
                        // UUIDs are judged by their own (optional) rule.
                        !UUID.is_match(s)
                            && s.bytes().any(|b| b.is_ascii_digit())
                            && s.bytes().any(|b| b.is_ascii_alphabetic())
                    })
            }
            SensitiveKind::IpAddress => {
                self.detect_ip
                    && (IPV4.find_iter(value).any(|m| m.as_str().parse::<std::net::Ipv4Addr>().is_ok())
                        || IPV6_CANDIDATE.find_iter(value).any(|m| {
                            let s = m.as_str().split('%').next().unwrap_or_default();
                            s.parse::<std::net::Ipv6Addr>().is_ok()
                        }))
            }
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

/// Luhn check over the digits of `s` (spaces and dashes ignored), 13 to 19 digits.
pub fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
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
            ("Bearer abcdefghijkl", SensitiveKind::Bearer),
            ("sk_live_abcdefghijkl", SensitiveKind::ApiKey),
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

    #[test]
    fn hashes_are_stable_per_key() {
        let g = SensitiveGuard { hash_key: 7, ..Default::default() };
        assert_eq!(g.hashed("x"), g.hashed("x"));
        assert_ne!(g.hashed("x"), g.hashed("y"));
        assert!(g.hashed("x").starts_with("hash:"));
    }
}
