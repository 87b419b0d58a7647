//! The Pushgateway group path: `/metrics/job/JOB/LABEL/VALUE…`, with a value that holds `/`
//! or is empty written as `LABEL@base64/URL-SAFE-BASE64`, as the gateway reads it.

use base64::Engine as _;

/// Appends `/name/value`, base64-encoded when the value has `/` or is empty, and
/// percent-encoded otherwise.
pub(crate) fn push_segment(path: &mut String, name: &str, value: &str) {
    path.push('/');
    path.push_str(name);
    if value.is_empty() || value.contains('/') {
        path.push_str("@base64/");
        if value.is_empty() {
            path.push('=');
        } else {
            path.push_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value));
        }
    } else {
        path.push('/');
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                path.push(char::from(b));
            } else {
                path.push_str(&format!("%{b:02X}"));
            }
        }
    }
}

/// The whole group path for a job and its grouping labels.
pub(crate) fn group_path(job: &str, labels: &[(String, String)]) -> String {
    let mut path = String::from("/metrics");
    push_segment(&mut path, "job", job);
    for (k, v) in labels {
        push_segment(&mut path, k, v);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_and_empty_values_are_base64() {
        let labels = vec![("path".to_owned(), "/var/tmp".to_owned()), ("instance".to_owned(), String::new())];
        assert_eq!(group_path("batch", &labels), "/metrics/job/batch/path@base64/L3Zhci90bXA/instance@base64/=");
    }

    #[test]
    fn other_values_are_percent_encoded() {
        assert_eq!(group_path("a b", &[("k".into(), "x?y#z".into())]), "/metrics/job/a%20b/k/x%3Fy%23z");
    }
}
