//! Stage 3: sanitization. Control characters are removed and the value is capped at a byte
//! length (on a character boundary). Escaping for a wire format is the encoder's job.

use std::borrow::Cow;

/// What sanitizing changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sanitized {
    /// Control characters were removed.
    pub removed_control: bool,
    /// The value was cut to the length cap.
    pub truncated: bool,
}

/// Removes control characters (`char::is_control`: C0, DEL, C1) and caps the length in bytes.
pub fn sanitize_value(value: &str, max_len: usize) -> (Cow<'_, str>, Sanitized) {
    let mut report = Sanitized::default();
    // Printable ASCII, the usual value, has no control character: one pass over bytes.
    let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
    let mut out: Cow<'_, str> = if !printable && value.chars().any(char::is_control) {
        report.removed_control = true;
        Cow::Owned(value.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(value)
    };
    if let Some(cut) = cut_to(&out, max_len) {
        report.truncated = true;
        out = Cow::Owned(cut.to_owned());
    }
    (out, report)
}

/// `value` cut to at most `max_len` bytes on a character boundary (`None`: nothing to cut).
pub(crate) fn cut_to(value: &str, max_len: usize) -> Option<&str> {
    if value.len() <= max_len {
        return None;
    }
    let mut cut = max_len;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(&value[..cut])
}

/// Characters the StatsD line grammar gives a meaning (`name:value|type|@rate|#tags`, the
/// InfluxDB `name,k=v` form) that a name or a tag must never carry onto the wire.
pub const STATSD_RESERVED: &[char] = &[':', '|', '@', '#', ',', '='];

/// Makes a name or tag safe for one StatsD line: every reserved character
/// ([`STATSD_RESERVED`]), white space and control character becomes `_`, so a hostile value
/// can neither start a second line nor a second field. Returns `Cow::Borrowed` when clean.
///
/// ```
/// use codomyrmex_metrics::policy::sanitize::statsd_wire;
/// assert_eq!(statsd_wire("a:1|c\nevil:9|c"), "a_1_c_evil_9_c");
/// assert_eq!(statsd_wire("GET"), "GET");
/// ```
pub fn statsd_wire(value: &str) -> Cow<'_, str> {
    let bad = |c: char| STATSD_RESERVED.contains(&c) || c.is_whitespace() || c.is_control();
    if value.contains(bad) {
        Cow::Owned(value.chars().map(|c| if bad(c) { '_' } else { c }).collect())
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_control_characters() {
        let (v, r) = sanitize_value("a\nb\r\tc\u{7f}\u{85}d", 128);
        assert_eq!(v, "abcd");
        assert!(r.removed_control && !r.truncated);
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        let (v, r) = sanitize_value("ééé", 3);
        assert_eq!(v, "é");
        assert!(r.truncated);
    }

    #[test]
    fn statsd_wire_leaves_nothing_that_splits_a_line() {
        let v = statsd_wire("k:v|c|@0.5|#t:1,u=2\r\n\u{85}\u{2028} é");
        assert!(!v.contains(STATSD_RESERVED) && !v.contains(char::is_whitespace), "{v}");
        assert!(v.ends_with('é'));
    }

    #[test]
    fn leaves_clean_values_borrowed() {
        let (v, r) = sanitize_value("GET", 128);
        assert!(matches!(v, Cow::Borrowed("GET")));
        assert_eq!(r, Sanitized::default());
    }
}
