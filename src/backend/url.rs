//! Backend URLs (`SCHEME://HOST:PORT/PATH`), parsed by `fluent-uri` (RFC 3986). The `url`
//! crate would bring IDNA and its Unicode tables (about 30 crates) to read addresses that are
//! IP literals or plain host names; see docs/architecture.md.

use std::net::IpAddr;

use crate::backend::config::invalid_url;
use crate::error::ConfigError;

/// The host of a backend URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// An IP literal (`127.0.0.1`, `[::1]`).
    Ip(IpAddr),
    /// A registered name, percent-decoded and lower-cased.
    Name(String),
}

#[cfg_attr(not(any(feature = "prometheus", feature = "pushgateway", feature = "statsd")), allow(dead_code))]
impl Host {
    /// The host as it goes into `HOST:PORT` text (IPv6 in brackets).
    #[cfg_attr(not(any(feature = "pushgateway", feature = "statsd")), allow(dead_code))]
    pub(crate) fn to_authority(&self) -> String {
        match self {
            Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
            Host::Ip(ip) => ip.to_string(),
            Host::Name(n) => n.clone(),
        }
    }
}

/// A parsed backend URL.
pub(crate) struct BackendUrl<'a> {
    uri: fluent_uri::Uri<&'a str>,
}

#[cfg_attr(not(any(feature = "prometheus", feature = "pushgateway", feature = "statsd")), allow(dead_code))]
impl<'a> BackendUrl<'a> {
    /// Parses `text`; the error never repeats it (a URL may hold a secret).
    pub(crate) fn parse(text: &'a str) -> Result<Self, ConfigError> {
        fluent_uri::Uri::parse(text).map(|uri| Self { uri }).map_err(|e| {
            invalid_url(format!("not a URL ({})", e.to_string().split(" at index").next().unwrap_or("invalid")))
        })
    }

    /// The scheme, lower-cased.
    pub(crate) fn scheme(&self) -> String {
        self.uri.scheme().as_str().to_ascii_lowercase()
    }

    /// The host, or `None` when the URL has no authority or an empty host.
    pub(crate) fn host(&self) -> Result<Option<Host>, ConfigError> {
        let Some(auth) = self.uri.authority() else { return Ok(None) };
        Ok(match auth.host_parsed() {
            fluent_uri::component::Host::Ipv4(v4) => Some(Host::Ip(IpAddr::V4(v4))),
            fluent_uri::component::Host::Ipv6(v6) => Some(Host::Ip(IpAddr::V6(v6))),
            fluent_uri::component::Host::RegName(name) if name.is_empty() => None,
            fluent_uri::component::Host::RegName(name) => {
                let decoded = name.decode().to_string().map_err(|_| invalid_url("the host is not UTF-8".into()))?;
                Some(Host::Name(decoded.to_ascii_lowercase()))
            }
            _ => return Err(invalid_url("unsupported host form".into())),
        })
    }

    /// The port, if given.
    pub(crate) fn port(&self) -> Result<Option<u16>, ConfigError> {
        match self.uri.authority() {
            None => Ok(None),
            Some(auth) => {
                auth.port_to_u16().map_err(|_| invalid_url("the port is not a number from 0 to 65535".into()))
            }
        }
    }

    /// The path as written (percent-encoded).
    pub(crate) fn path(&self) -> &str {
        self.uri.path().as_str()
    }

    /// The path, percent-decoded.
    #[cfg_attr(not(feature = "statsd"), allow(dead_code))]
    pub(crate) fn decoded_path(&self) -> Result<String, ConfigError> {
        self.uri
            .path()
            .decode()
            .to_string()
            .map(|c| c.into_owned())
            .map_err(|_| invalid_url("the path is not UTF-8".into()))
    }

    /// The non-empty path segments, percent-decoded.
    #[cfg_attr(not(feature = "pushgateway"), allow(dead_code))]
    pub(crate) fn segments(&self) -> Result<Vec<String>, ConfigError> {
        let Some(segments) = self.uri.path().segments_if_absolute() else { return Ok(Vec::new()) };
        segments
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.decode()
                    .to_string()
                    .map(|c| c.into_owned())
                    .map_err(|_| invalid_url("a path segment is not UTF-8".into()))
            })
            .collect()
    }

    /// The user and password of the URL's userinfo, percent-decoded (a proxy URL's).
    #[cfg_attr(not(feature = "pushgateway"), allow(dead_code))]
    pub(crate) fn credentials(&self) -> Option<(String, String)> {
        let info = self.uri.authority()?.userinfo()?;
        let decode = |s: &fluent_uri::pct_enc::EStr<fluent_uri::pct_enc::encoder::Userinfo>| {
            s.decode().to_string().map(|c| c.into_owned()).unwrap_or_default()
        };
        Some(match info.split_once(':') {
            Some((user, password)) => (decode(user), decode(password)),
            None => (decode(info), String::new()),
        })
    }

    /// Whether the URL has a path other than `/`, a query or a fragment.
    #[cfg_attr(not(feature = "pushgateway"), allow(dead_code))]
    pub(crate) fn has_path_or_query(&self) -> bool {
        !matches!(self.path(), "" | "/") || self.uri.query().is_some() || self.uri.fragment().is_some()
    }

    /// Whether the URL carries a user, a password, a query or a fragment.
    pub(crate) fn has_userinfo_or_query(&self) -> bool {
        self.uri.authority().is_some_and(|a| a.has_userinfo())
            || self.uri.query().is_some()
            || self.uri.fragment().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_backends_use() {
        let u = BackendUrl::parse("Prometheus+TLS://[::1]:9464/metrics").unwrap();
        assert_eq!(u.scheme(), "prometheus+tls");
        assert_eq!(u.host().unwrap(), Some(Host::Ip("::1".parse().unwrap())));
        assert_eq!(u.port().unwrap(), Some(9464));
        assert_eq!(u.path(), "/metrics");
        let u = BackendUrl::parse("statsd+unix:///run/statsd.sock").unwrap();
        assert_eq!(u.host().unwrap(), None);
        assert_eq!(u.decoded_path().unwrap(), "/run/statsd.sock");
        let u = BackendUrl::parse("pushgateway://GW.example:9091/job/a%2Fb/instance/x").unwrap();
        assert_eq!(u.host().unwrap(), Some(Host::Name("gw.example".into())));
        assert_eq!(u.segments().unwrap(), ["job", "a/b", "instance", "x"]);
        assert!(!u.has_userinfo_or_query());
        assert!(BackendUrl::parse("statsd://u:p@h:1").unwrap().has_userinfo_or_query());
        assert!(BackendUrl::parse("statsd://h:1?x=1").unwrap().has_userinfo_or_query());
        assert!(BackendUrl::parse("statsd://h:99999").unwrap().port().is_err());
        assert!(BackendUrl::parse("not a url").is_err());
    }
}
