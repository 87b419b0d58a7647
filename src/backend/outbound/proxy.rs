//! Forward proxies for the HTTP clients (Pushgateway, OTLP): `http_proxy` / `https_proxy` / `all_proxy` /
//! `no_proxy` (curl's rules, as hyper-util's matcher reads them; the upper-case names too,
//! except `HTTP_PROXY` in a CGI process, which a request header can set: "httpoxy"), or
//! explicit settings. A plain-HTTP request goes to the proxy in absolute form; an HTTPS one
//! goes through a `CONNECT` tunnel, with TLS end to end to the backend. Proxy credentials come
//! from the proxy URL's userinfo or from settings (a password file), go only in
//! `Proxy-Authorization`, and never into a `Debug`, error or log line.

use base64::Engine as _;
use hyper::header::HeaderValue;
use hyper_util::client::proxy::matcher::Matcher;

use crate::backend::url::BackendUrl;
use crate::error::ConfigError;

/// What the builder gathers; checked and turned into a [`Proxy`] at `build`.
#[derive(Clone, Default)]
pub(crate) struct ProxySettings {
    pub(crate) http: Option<String>,
    pub(crate) https: Option<String>,
    pub(crate) all: Option<String>,
    pub(crate) no: Option<String>,
    pub(crate) credentials: Option<(String, String)>,
}

impl std::fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.as_deref().map(redact);
        f.debug_struct("ProxySettings")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("all", &shown(&self.all))
            .field("no", &self.no)
            .field("credentials", &self.credentials.as_ref().map(|_| ".."))
            .finish()
    }
}

/// A proxy URL without its userinfo.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://..@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

impl ProxySettings {
    /// The variables as `lookup` gives them.
    pub(crate) fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let get = |names: [&str; 2]| names.into_iter().find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()));
        let cgi = lookup("REQUEST_METHOD").is_some();
        Self {
            http: if cgi {
                lookup("http_proxy").filter(|v| !v.trim().is_empty())
            } else {
                get(["http_proxy", "HTTP_PROXY"])
            },
            https: get(["https_proxy", "HTTPS_PROXY"]),
            all: get(["all_proxy", "ALL_PROXY"]),
            no: get(["no_proxy", "NO_PROXY"]),
            credentials: None,
        }
    }

    /// Checks every proxy URL given and builds the router; `None` when no proxy is set.
    pub(crate) fn build(&self) -> Result<Option<Proxy>, ConfigError> {
        let mut b = Matcher::builder();
        let mut userinfo = None;
        let mut any = false;
        for (which, v) in [("HTTP proxy", &self.http), ("HTTPS proxy", &self.https), ("proxy", &self.all)] {
            let Some(v) = v else { continue };
            userinfo = userinfo.or(check_proxy_url(which, v.trim())?);
            any = true;
            let v = v.trim().to_owned();
            b = match which {
                "HTTP proxy" => b.http(v),
                "HTTPS proxy" => b.https(v),
                _ => b.all(v),
            };
        }
        if !any {
            return Ok(None);
        }
        if let Some(no) = &self.no {
            b = b.no(no.clone());
        }
        let auth = match self.credentials.clone().or(userinfo) {
            Some((user, password)) => {
                if format!("{user}{password}").chars().any(char::is_control) || user.contains(':') {
                    return Err(invalid("the proxy credentials have a control character, or ':' in the user"));
                }
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                let mut v = HeaderValue::try_from(format!("Basic {token}"))
                    .map_err(|_| invalid("the proxy credentials cannot travel in a header"))?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        Ok(Some(Proxy { matcher: b.build(), auth }))
    }
}

fn invalid(reason: &str) -> ConfigError {
    ConfigError::Invalid { setting: "pushgateway proxy", reason: reason.into() }
}

/// An `http://HOST[:PORT]` proxy; its userinfo, if any. Never repeats the URL (it may hold a
/// password).
fn check_proxy_url(which: &str, v: &str) -> Result<Option<(String, String)>, ConfigError> {
    let bad =
        |why: &str| ConfigError::Invalid { setting: "pushgateway proxy", reason: format!("the {which} proxy {why}") };
    let u = BackendUrl::parse(v).map_err(|_| bad("is not a URL (expected http://HOST:PORT)"))?;
    if u.scheme() != "http" {
        return Err(bad("must be an http:// proxy (HTTPS goes through it with CONNECT)"));
    }
    if u.host().map_err(|_| bad("has an unusable host"))?.is_none() {
        return Err(bad("has no host"));
    }
    u.port().map_err(|_| bad("has an unusable port"))?;
    if u.has_path_or_query() {
        return Err(bad("takes no path or query"));
    }
    Ok(u.credentials())
}

/// The proxy router, built once per exporter.
pub(crate) struct Proxy {
    matcher: Matcher,
    auth: Option<HeaderValue>,
}

/// Where one request goes first, and how.
pub(crate) struct Route {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) auth: Option<HeaderValue>,
}

impl Proxy {
    /// The proxy for a request to `https`?`host`:`port`, or `None` to go direct (`no_proxy`).
    pub(crate) fn route(&self, https: bool, host: &str, port: u16) -> Option<Route> {
        let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let dst: hyper::Uri = format!("{}://{authority}/", if https { "https" } else { "http" }).parse().ok()?;
        let hit = self.matcher.intercept(&dst)?;
        let uri = hit.uri();
        let host = uri.host()?.trim_matches(['[', ']']).to_owned();
        // curl's default proxy port.
        let port = uri.port_u16().unwrap_or(1080);
        Some(Route { host, port, auth: self.auth.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_variables_route_like_curl() {
        let s = ProxySettings::from_env(&env(&[
            ("HTTP_PROXY", "http://proxy.internal:3128"),
            ("https_proxy", "http://u:p%40ss@tunnel.internal"),
            ("NO_PROXY", "localhost,.svc.cluster.local"),
        ]));
        let p = s.build().unwrap().unwrap();
        let r = p.route(false, "gw.example", 9091).unwrap();
        assert_eq!((r.host.as_str(), r.port, r.auth.is_some()), ("proxy.internal", 3128, true));
        let r = p.route(true, "gw.example", 443).unwrap();
        assert_eq!((r.host.as_str(), r.port), ("tunnel.internal", 1080));
        assert_eq!(r.auth.unwrap().to_str().unwrap(), "Basic dTpwQHNz", "u:p@ss, decoded");
        assert!(p.route(false, "localhost", 9091).is_none());
        assert!(p.route(true, "pgw.monitoring.svc.cluster.local", 9091).is_none());
        assert!(ProxySettings::default().build().unwrap().is_none());
    }

    #[test]
    fn httpoxy_the_upper_case_http_proxy_is_ignored_in_cgi() {
        let s = ProxySettings::from_env(&env(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]));
        assert!(s.build().unwrap().is_none());
    }

    #[test]
    fn bad_proxies_are_refused_without_repeating_them() {
        for bad in ["socks5://h:1", "https://h:1", "http://", "http://h:1/path", "not a url", "http://h:99999"] {
            let s = ProxySettings { all: Some(bad.into()), ..Default::default() };
            let e = s.build().err().unwrap_or_else(|| panic!("{bad} was accepted")).to_string();
            assert!(e.contains("pushgateway proxy"), "{e}");
        }
        let s = ProxySettings { all: Some("ftp://user:hunter2-secret@h:1".into()), ..Default::default() };
        assert!(!s.build().err().unwrap().to_string().contains("hunter2"));
        let debug = format!(
            "{:?}",
            ProxySettings {
                all: Some("http://user:hunter2-secret@h:1".into()),
                credentials: Some(("u".into(), "hunter3-secret".into())),
                ..Default::default()
            }
        );
        assert!(!debug.contains("hunter2") && !debug.contains("hunter3") && debug.contains("h:1"), "{debug}");
    }
}
