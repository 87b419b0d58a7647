//! The crate's environment variables, all of them whatever the features: a variable under the
//! crate's prefix that is not one of them is a typo, and an error that says which one was meant.

/// Every `CODOMYRMEX_METRICS_*` variable the crate reads (with any set of features).
pub const KNOWN_ENV_VARS: &[&str] = &[
    "CODOMYRMEX_METRICS_BACKEND",
    "CODOMYRMEX_METRICS_PREFIX",
    "CODOMYRMEX_METRICS_GLOBAL_LABELS",
    "CODOMYRMEX_METRICS_MAX_SERIES_PER_METRIC",
    "CODOMYRMEX_METRICS_MAX_SERIES_TOTAL",
    "CODOMYRMEX_METRICS_TLS_CERT",
    "CODOMYRMEX_METRICS_TLS_KEY",
    "CODOMYRMEX_METRICS_TLS_CLIENT_CA",
    "CODOMYRMEX_METRICS_TLS_CLIENT_NAMES",
    "CODOMYRMEX_METRICS_BASIC_AUTH_FILE",
    "CODOMYRMEX_METRICS_BEARER_TOKEN_FILE",
    "CODOMYRMEX_METRICS_ALLOW_CIDRS",
    "CODOMYRMEX_METRICS_ALLOWED_HOSTS",
    "CODOMYRMEX_METRICS_ALLOW_UNAUTHENTICATED_PUBLIC_BIND",
    "CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS",
    "CODOMYRMEX_METRICS_PUSH_USER",
    "CODOMYRMEX_METRICS_PUSH_PASSWORD_FILE",
    "CODOMYRMEX_METRICS_PUSH_BEARER_TOKEN_FILE",
    "CODOMYRMEX_METRICS_PUSH_CA_FILE",
    "CODOMYRMEX_METRICS_PUSH_CLIENT_CERT",
    "CODOMYRMEX_METRICS_PUSH_CLIENT_KEY",
    "CODOMYRMEX_METRICS_PUSH_PIN_SHA256",
    "CODOMYRMEX_METRICS_PUSH_PROXY_USER",
    "CODOMYRMEX_METRICS_PUSH_PROXY_PASSWORD_FILE",
    "CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS",
    "CODOMYRMEX_METRICS_STATSD_DIALECT",
    "CODOMYRMEX_METRICS_STATSD_ETSY_LABELS",
    "CODOMYRMEX_METRICS_STATSD_PREFIX",
    "CODOMYRMEX_METRICS_STATSD_TAGS",
    "CODOMYRMEX_METRICS_STATSD_AGGREGATE",
    "CODOMYRMEX_METRICS_STATSD_FLUSH_INTERVAL_MS",
    "CODOMYRMEX_METRICS_STATSD_SAMPLE_RATE",
    "CODOMYRMEX_METRICS_STATSD_HISTOGRAM_AS",
    "CODOMYRMEX_METRICS_STATSD_MAX_PAYLOAD",
    "CODOMYRMEX_METRICS_STATSD_CA_FILE",
    "CODOMYRMEX_METRICS_STATSD_CLIENT_CERT",
    "CODOMYRMEX_METRICS_STATSD_CLIENT_KEY",
    "CODOMYRMEX_METRICS_STATSD_SERVER_NAME",
    "CODOMYRMEX_METRICS_STATSD_PIN_SHA256",
    "CODOMYRMEX_METRICS_OTLP_PIN_SHA256",
];

const PREFIX: &str = "CODOMYRMEX_METRICS_";

/// Edit distance between two short ASCII names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<u8> = b.bytes().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The first variable under the crate's prefix that it does not read, with the closest one it
/// does, if any is close.
pub(crate) fn unknown<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<(String, Option<&'static str>)> {
    let name = names.into_iter().find(|n| n.starts_with(PREFIX) && !KNOWN_ENV_VARS.contains(n))?;
    let best = KNOWN_ENV_VARS.iter().map(|k| (distance(name, k), *k)).min_by_key(|(d, _)| *d);
    let suggestion = best.filter(|(d, _)| *d <= 3).map(|(_, k)| k);
    // The name is the user's own (never a value); long garbage is cut for the message.
    Some((name.chars().take(80).collect(), suggestion))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_found_and_the_intended_name_suggested() {
        assert_eq!(unknown(["PATH", "CODOMYRMEX_METRICS_BACKEND"]), None);
        let (name, hint) = unknown(["CODOMYRMEX_METRICS_BACKEN"]).unwrap();
        assert_eq!((name.as_str(), hint), ("CODOMYRMEX_METRICS_BACKEN", Some("CODOMYRMEX_METRICS_BACKEND")));
        assert_eq!(unknown(["CODOMYRMEX_METRICS_SOMETHING_ELSE_ENTIRELY"]).unwrap().1, None);
    }
}
