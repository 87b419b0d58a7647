//! Stage 3: sanitization. Control characters are removed and the value is capped at a byte
//! length (on a character boundary). Escaping for a wire format is the encoder's job.

use std::borrow::Cow;

/// What sanitizing changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sanitized {
    /// Control characters were removed.
    pub removed_control: bool,
    /// The value was cut to the length cap.
    pub truncated: bool,
}

/// Removes control characters (`char::is_control`: C0, DEL, C1) and caps the length in bytes.
pub fn sanitize_value(value: &str, max_len: usize) -> (Cow<'_, str>, Sanitized) {
    let mut report = Sanitized::default();
    let mut out: Cow<'_, str> = if value.chars().any(char::is_control) {
        report.removed_control = true;
        Cow::Owned(value.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(value)
    };
    if out.len() > max_len {
        report.truncated = true;
        let mut cut = max_len;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out = Cow::Owned(out[..cut].to_owned());
    }
    (out, report)
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
    fn leaves_clean_values_borrowed() {
        let (v, r) = sanitize_value("GET", 128);
        assert!(matches!(v, Cow::Borrowed("GET")));
        assert_eq!(r, Sanitized::default());
    }
}
