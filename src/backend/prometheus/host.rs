//! The Host header against DNS rebinding. A web page can make a name it controls resolve to
//! 127.0.0.1 and then read a loopback endpoint from the browser: the connection is local, but
//! the Host header still names the page's domain. So an endpoint bound to loopback answers only
//! requests whose Host is a loopback name or address (any port), unless hosts are configured.

use std::net::IpAddr;

/// Which Host headers are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPolicy {
    /// Any (the endpoint is bound to a non-loopback address and no hosts were given).
    Any,
    /// `localhost`, `*.localhost`, and loopback addresses (the default on loopback).
    Loopback,
    /// These names or addresses, compared without the port and case-insensitively.
    Allowed(Vec<String>),
}

/// The host part of a Host header value: lower-cased, without port, brackets or a final dot.
fn host_part(value: &str) -> Option<String> {
    let value = value.trim();
    let host = if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))) {
            return None;
        }
        inside
    } else {
        match value.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            Some(_) => return None,
            None => value,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn is_loopback_name(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

impl HostPolicy {
    /// Whether a request with this Host header is answered. A request without one is (no
    /// browser sends one without it); one that is not valid text or has no host is not.
    pub(crate) fn allows(&self, header: Option<&[u8]>) -> bool {
        if *self == HostPolicy::Any {
            return true;
        }
        let Some(raw) = header else { return true };
        let Some(host) = std::str::from_utf8(raw).ok().and_then(host_part) else { return false };
        match self {
            HostPolicy::Any => true,
            HostPolicy::Loopback => is_loopback_name(&host),
            HostPolicy::Allowed(hosts) => hosts.contains(&host),
        }
    }

    /// Normalises a configured host (as a Host header's host part would be).
    pub(crate) fn normalise(host: &str) -> Option<String> {
        host_part(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses_on_any_port() {
        let p = HostPolicy::Loopback;
        for h in [
            "localhost",
            "LOCALHOST:9464",
            "localhost.",
            "app.localhost:1",
            "127.0.0.1:9464",
            "127.9.9.9",
            "[::1]:9464",
            "[::1]",
            "[::ffff:127.0.0.1]:80",
        ] {
            assert!(p.allows(Some(h.as_bytes())), "{h}");
        }
        assert!(p.allows(None), "no Host: not a browser");
    }

    #[test]
    fn rebound_names_are_refused() {
        let p = HostPolicy::Loopback;
        for h in [
            "evil.example",
            "evil.example:9464",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1",
            "",
            ":9464",
            "[::1",
            "[::1]x",
            "a:b:c",
            "local\u{0}host",
        ] {
            assert!(!p.allows(Some(h.as_bytes())), "{h}");
        }
        assert!(!p.allows(Some(b"\xff\xfe")));
    }

    #[test]
    fn configured_hosts_replace_the_default() {
        let p = HostPolicy::Allowed(vec![
            HostPolicy::normalise("Metrics.Internal").unwrap(),
            HostPolicy::normalise("[2001:db8::5]").unwrap(),
        ]);
        assert!(p.allows(Some(b"metrics.internal:9464")));
        assert!(p.allows(Some(b"[2001:db8::5]:9464")));
        assert!(!p.allows(Some(b"localhost")));
        assert!(HostPolicy::Any.allows(Some(b"anything")));
    }
}
