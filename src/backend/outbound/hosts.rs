//! The allowlist of backend hosts: an operator who takes backend URLs from the environment can
//! pin where metrics may go. A host not on the list is a configuration error, never a
//! connection. Entries are host names (`pushgateway.internal`, any letter case), suffix
//! patterns (`*.metrics.internal`: any name under it, not the name itself) and IP addresses.
//! Unix sockets are local and need no entry.

use std::net::IpAddr;

use crate::error::ConfigError;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Name(String),
    Under(String),
    Ip(IpAddr),
}

/// Where metrics may go; empty means anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AllowedHosts(Vec<Entry>);

impl AllowedHosts {
    /// Parses the entries; `setting` names them in errors.
    pub(crate) fn parse<S: AsRef<str>>(
        setting: &'static str,
        entries: impl IntoIterator<Item = S>,
    ) -> Result<Self, ConfigError> {
        let mut list = Vec::new();
        for e in entries {
            let e = e.as_ref().trim();
            let bad = |why: &str| ConfigError::Invalid { setting, reason: format!("{e:?} {why}") };
            if e.is_empty() {
                continue;
            }
            if let Ok(ip) = e.trim_matches(['[', ']']).parse::<IpAddr>() {
                list.push(Entry::Ip(ip));
            } else if let Some(rest) = e.strip_prefix("*.") {
                if !is_name(rest) {
                    return Err(bad("is not a host pattern (`*.example.com`)"));
                }
                list.push(Entry::Under(rest.to_ascii_lowercase()));
            } else if is_name(e) {
                list.push(Entry::Name(e.trim_end_matches('.').to_ascii_lowercase()));
            } else {
                return Err(bad("is not a host name, `*.` pattern or IP address"));
            }
        }
        Ok(Self(list))
    }

    /// Whether `host` (a name or an IP address, as in the backend's URL) may be used.
    pub(crate) fn allows(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let host = host.trim_matches(['[', ']']);
        let ip = host.parse::<IpAddr>().ok();
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|e| match e {
            Entry::Ip(allowed) => ip == Some(*allowed),
            Entry::Name(n) => ip.is_none() && *n == name,
            Entry::Under(n) => {
                ip.is_none() && name.len() > n.len() + 1 && name.ends_with(n.as_str()) && {
                    name.as_bytes()[name.len() - n.len() - 1] == b'.'
                }
            }
        })
    }

    /// `Ok` when `host` is allowed; else the error that names the setting and the host.
    pub(crate) fn check(&self, setting: &'static str, host: &str) -> Result<(), ConfigError> {
        if self.allows(host) {
            return Ok(());
        }
        Err(ConfigError::Invalid { setting, reason: format!("host {host:?} is not in the allowed backend hosts") })
    }
}

fn is_name(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(e: &[&str]) -> AllowedHosts {
        AllowedHosts::parse("allowed_hosts", e).unwrap()
    }

    #[test]
    fn names_patterns_and_addresses() {
        let l = list(&["pushgateway.internal", "*.metrics.example", "10.0.0.7", "::1"]);
        assert!(l.allows("PushGateway.Internal"));
        assert!(l.allows("pushgateway.internal."));
        assert!(l.allows("a.metrics.example"));
        assert!(l.allows("b.a.metrics.example"));
        assert!(!l.allows("metrics.example"), "the pattern is for names under it");
        assert!(!l.allows("evilmetrics.example"));
        assert!(!l.allows("pushgateway.internal.evil.com"));
        assert!(l.allows("10.0.0.7"));
        assert!(l.allows("[::1]"));
        assert!(!l.allows("10.0.0.8"));
        assert!(list(&[]).allows("anything"));
    }

    #[test]
    fn nonsense_is_refused_and_named() {
        for bad in ["http://x", "*.", "a..b", "-a.b", "x y", "*.*.a", "a/b"] {
            let e = AllowedHosts::parse("allowed_hosts", [bad]).unwrap_err().to_string();
            assert!(e.contains("allowed_hosts"), "{e}");
        }
        let e = list(&["a.b"]).check("pushgateway url", "c.d").unwrap_err().to_string();
        assert!(e.contains("\"c.d\" is not in the allowed backend hosts"), "{e}");
    }
}
