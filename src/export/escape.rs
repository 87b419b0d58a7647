//! Escaping and number formatting shared by the text encoders.
//!
//! Label values escape `\` `"` and line feed, so two different values never render the same.
//! Numbers are written exactly: integers in full, floats in their shortest round-trip form.

/// Appends `v` with `\` → `\\`, `"` → `\"`, line feed → `\n`.
pub(crate) fn escape_label_value(out: &mut String, v: &str) {
    if !v.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(v);
        return;
    }
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends HELP text: `\` → `\\` and line feed → `\n`; OpenMetrics also escapes `"`.
pub(crate) fn escape_help(out: &mut String, help: &str, openmetrics: bool) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if openmetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Appends `k="v",k2="v2"` for the pairs, values escaped.
pub(crate) fn write_label_pairs<'a>(out: &mut String, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_label_value(out, v);
        out.push('"');
    }
}

/// Appends an integer.
#[inline]
pub(crate) fn write_u64(out: &mut String, v: u64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends a float the way both formats read it: `NaN`, `+Inf`, `-Inf`, integers without a
/// fraction, anything else in its shortest form that parses back to the same `f64`.
#[inline]
pub(crate) fn write_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        if v == 0.0 && v.is_sign_negative() {
            out.push_str("-0");
        } else {
            out.push_str(itoa::Buffer::new().format(v as i64));
        }
    } else {
        out.push_str(ryu::Buffer::new().format_finite(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_faithfully() {
        let mut a = String::new();
        escape_label_value(&mut a, "a\\n");
        let mut b = String::new();
        escape_label_value(&mut b, "a\n");
        assert_ne!(a, b);
        assert_eq!(a, "a\\\\n");
        assert_eq!(b, "a\\n");
    }

    #[test]
    fn numbers_round_trip() {
        for v in [0.0, 1.0, -1.5, 0.1, 1e-9, 1e300, 123456789.125, f64::MIN_POSITIVE] {
            let mut s = String::new();
            write_f64(&mut s, v);
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
        }
        let mut s = String::new();
        write_f64(&mut s, f64::INFINITY);
        assert_eq!(s, "+Inf");
    }
}
