//! Stage 1: the name grammar (Prometheus rules) and reserved names.

/// Prefix of the crate's own metrics and labels; user names may not start with it.
pub const RESERVED_PREFIX: &str = "codomyrmex_";

/// A metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, at most 200 bytes.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    name.len() <= MAX_NAME_LEN && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// A label key: `[a-zA-Z_][a-zA-Z0-9_]*`, at most 200 bytes (reserved keys are checked apart).
pub fn is_valid_label_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    key.len() <= MAX_NAME_LEN && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Longest metric name or label key accepted.
pub const MAX_NAME_LEN: usize = 200;

/// Keys Prometheus reserves (`__…`), the crate's own prefix, and `le`/`quantile`, which the
/// histogram and summary encodings own.
pub fn is_reserved_label_key(key: &str) -> bool {
    key.starts_with("__") || key.starts_with(RESERVED_PREFIX) || key == "le" || key == "quantile"
}

/// Why a name or key was refused, for error messages.
pub fn name_rule() -> &'static str {
    "metric names match [a-zA-Z_:][a-zA-Z0-9_:]* (at most 200 bytes)"
}

/// The label-key rule, for error messages.
pub fn key_rule() -> &'static str {
    "label keys match [a-zA-Z_][a-zA-Z0-9_]* (at most 200 bytes); keys starting with `__` or `codomyrmex_`, and `le`/`quantile`, are reserved"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_prometheus_grammar() {
        for ok in ["a", "_a", ":a", "http_requests_total", "a:b_c9"] {
            assert!(is_valid_metric_name(ok), "{ok}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a.b", "a{b}", &"a".repeat(201)] {
            assert!(!is_valid_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_keys_follow_prometheus_grammar_and_reserve_prefixes() {
        assert!(is_valid_label_key("method"));
        assert!(!is_valid_label_key("a:b"));
        assert!(!is_valid_label_key("1a"));
        assert!(is_reserved_label_key("__name__"));
        assert!(is_reserved_label_key("le"));
        assert!(is_reserved_label_key("codomyrmex_overflow"));
        assert!(!is_reserved_label_key("_private"));
    }
}
