//! Pushgateway settings: where, which group, how often, and how to authenticate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::outbound::hosts::AllowedHosts;
use crate::backend::outbound::proxy::ProxySettings;
use crate::backend::outbound::CircuitBreaker;
use crate::backend::retry::{backoff_bounds, MAX_DURATION};
use crate::backend::secret_file::{check_read_secrets, read_secret_deferred, ReadSecret, SecretFilePolicy};
use crate::error::ConfigError;
use crate::policy::validate;

/// PUT replaces the whole group on every push; POST replaces only the metrics pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushMethod {
    /// Replace the group (default).
    #[default]
    Put,
    /// Merge into the group by metric name.
    Post,
}

#[derive(Clone)]
pub(crate) enum PushAuth {
    None,
    Basic(String),
    Bearer(String),
}

impl std::fmt::Debug for PushAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Basic(_) => "Basic(..)",
            Self::Bearer(_) => "Bearer(..)",
        })
    }
}

/// Validated Pushgateway settings. Build with [`PushgatewayConfig::builder`].
#[derive(Debug, Clone)]
pub struct PushgatewayConfig {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) job: String,
    pub(crate) grouping: Vec<(String, String)>,
    pub(crate) interval: Duration,
    pub(crate) method: PushMethod,
    pub(crate) delete_on_shutdown: bool,
    pub(crate) auth: PushAuth,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_cert: Option<(PathBuf, PathBuf)>,
    #[cfg(feature = "tls")]
    pub(crate) pins: crate::backend::outbound::pin::Pins,
    pub(crate) secret_files: SecretFilePolicy,
    pub(crate) proxy: ProxySettings,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) timeout: Duration,
    pub(crate) shutdown_budget: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

/// Builds a [`PushgatewayConfig`]. Defaults: push every 10 s with PUT, 10 s timeout, retries
/// with exponential backoff from 200 ms up to 30 s with jitter, a last push at shutdown (given
/// 5 s), no DELETE, TLS verified against the system's roots, the proxy of `http_proxy` /
/// `https_proxy` / `no_proxy` if set, a circuit breaker that opens after 5 failures in a row
/// for 30 s, any host.
///
/// ```
/// use codomyrmex_metrics::PushgatewayConfig;
/// let config = PushgatewayConfig::builder("http://127.0.0.1:9091", "nightly_backup").unwrap()
///     .grouping_label("instance", "db-1").unwrap()
///     .build()
///     .unwrap();
/// # let _ = config;
/// ```
pub struct PushgatewayBuilder {
    config: PushgatewayConfig,
    secret_files: SecretFilePolicy,
    /// Secret files read by setters; their permissions are checked at `build`.
    secrets_read: Vec<ReadSecret>,
    allow_insecure_auth: bool,
    allowed_hosts: Vec<String>,
    #[cfg(feature = "tls")]
    pins: Vec<String>,
    /// Set apart and settled at `build`, so the setters work in any order.
    basic: Option<PushAuth>,
    bearer: Option<PushAuth>,
    proxy_url: Option<String>,
    no_proxy: Option<String>,
    proxy_off: bool,
    proxy_credentials: Option<(String, String)>,
}

impl std::fmt::Debug for PushgatewayBuilder {
    /// Credentials show as `..`; a proxy URL without its userinfo.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("PushgatewayBuilder");
        d.field("config", &self.config)
            .field("secret_files", &self.secret_files)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("basic", &self.basic)
            .field("bearer", &self.bearer)
            .field("proxy_url", &self.proxy_url.as_deref().map(crate::backend::outbound::proxy::redact))
            .field("no_proxy", &self.no_proxy)
            .field("proxy_off", &self.proxy_off)
            .field("proxy_credentials", &self.proxy_credentials.as_ref().map(|_| ".."));
        #[cfg(feature = "tls")]
        d.field("pins", &self.pins.len());
        d.finish_non_exhaustive()
    }
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting, reason: reason.into() }
}

impl PushgatewayConfig {
    /// The TLS client configuration these settings make (CA, client certificate, pins).
    #[cfg(feature = "tls")]
    pub(crate) fn tls_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, ConfigError> {
        crate::backend::tls_client::client_config(
            "pushgateway tls",
            self.ca_file.as_deref(),
            self.client_cert.as_ref(),
            self.secret_files,
            &self.pins,
        )
    }

    /// A builder for the gateway at `url` (`http://HOST:PORT` or `https://HOST:PORT`) and `job`.
    ///
    /// # Errors
    /// An unparsable URL, another scheme, a URL with credentials, or an empty job name.
    pub fn builder(url: &str, job: &str) -> Result<PushgatewayBuilder, ConfigError> {
        let reason = |e: ConfigError| match e {
            ConfigError::InvalidUrl { reason, .. } => invalid("pushgateway url", reason),
            other => other,
        };
        let u = crate::backend::url::BackendUrl::parse(url).map_err(reason)?;
        let https = match u.scheme().as_str() {
            "http" => false,
            "https" => true,
            other => return Err(invalid("pushgateway url", format!("scheme {other:?}: expected http or https"))),
        };
        if u.has_userinfo_or_query() {
            return Err(invalid(
                "pushgateway url",
                "credentials go in basic_auth or bearer_token, never in the URL, and it takes no query",
            ));
        }
        let host = match u.host().map_err(reason)? {
            Some(crate::backend::url::Host::Ip(ip)) => ip.to_string(),
            Some(crate::backend::url::Host::Name(name)) => name,
            None => return Err(invalid("pushgateway url", "no host")),
        };
        let port = u.port().map_err(reason)?;
        if job.is_empty() {
            return Err(invalid("job", "the job name is empty"));
        }
        Ok(PushgatewayBuilder {
            config: PushgatewayConfig {
                https,
                port: port.unwrap_or(if https { 443 } else { 9091 }),
                host,
                job: job.to_owned(),
                grouping: Vec::new(),
                interval: Duration::from_secs(10),
                method: PushMethod::Put,
                delete_on_shutdown: false,
                auth: PushAuth::None,
                ca_file: None,
                client_cert: None,
                #[cfg(feature = "tls")]
                pins: crate::backend::outbound::pin::Pins::default(),
                secret_files: SecretFilePolicy::Refuse,
                proxy: ProxySettings::from_env(&|k| std::env::var(k).ok()),
                breaker: CircuitBreaker::default(),
                timeout: Duration::from_secs(10),
                shutdown_budget: Duration::from_secs(5),
                initial_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(30),
            },
            secret_files: SecretFilePolicy::Refuse,
            secrets_read: Vec::new(),
            allow_insecure_auth: false,
            allowed_hosts: Vec::new(),
            #[cfg(feature = "tls")]
            pins: Vec::new(),
            basic: None,
            bearer: None,
            proxy_url: None,
            no_proxy: None,
            proxy_off: false,
            proxy_credentials: None,
        })
    }
}

impl PushgatewayBuilder {
    /// A grouping label (`instance`, …); values with `/` or empty ones are base64-encoded.
    ///
    /// # Errors
    /// An invalid or reserved label name, or `job` (given apart).
    pub fn grouping_label(mut self, name: &str, value: &str) -> Result<Self, ConfigError> {
        if !validate::is_valid_label_key(name) || name.starts_with("__") || name == "job" {
            return Err(invalid("grouping_label", format!("{name:?} is not a usable label name")));
        }
        self.config.grouping.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// How often to push [10 s; 100 ms to 24 h].
    #[must_use]
    pub fn interval(mut self, d: Duration) -> Self {
        self.config.interval = d.clamp(Duration::from_millis(100), MAX_DURATION);
        self
    }

    /// PUT (replace the group) or POST (merge) \[PUT\].
    #[must_use]
    pub fn method(mut self, m: PushMethod) -> Self {
        self.config.method = m;
        self
    }

    /// At shutdown, DELETE the group instead of pushing a last time \[off\].
    #[must_use]
    pub fn delete_on_shutdown(mut self, on: bool) -> Self {
        self.config.delete_on_shutdown = on;
        self
    }

    /// Time for one request, connection included [10 s].
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.config.timeout = d.clamp(Duration::from_millis(10), MAX_DURATION);
        self
    }

    /// Time the last push (or DELETE) at shutdown may take, retries included [5 s].
    #[must_use]
    pub fn shutdown_budget(mut self, d: Duration) -> Self {
        self.config.shutdown_budget = d.min(MAX_DURATION);
        self
    }

    /// First and largest wait between retries [200 ms, 30 s]; waits double, with jitter.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        (self.config.initial_backoff, self.config.max_backoff) = backoff_bounds(initial, max);
        self
    }

    /// Basic auth.
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.basic = Some(PushAuth::Basic(format!("Basic {token}")));
        self
    }

    /// Basic auth with the password read from a file (mode 600).
    ///
    /// # Errors
    /// The file is unreadable or readable by group or others.
    pub fn basic_auth_password_file(mut self, user: &str, path: &Path) -> Result<Self, ConfigError> {
        let (password, read) = read_secret_deferred(path, "basic_auth_password_file")?;
        self.secrets_read.push(read);
        Ok(self.basic_auth(user, &password))
    }

    /// A bearer token.
    #[must_use]
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.bearer = Some(PushAuth::Bearer(format!("Bearer {token}")));
        self
    }

    /// A bearer token read from a file (mode 600).
    ///
    /// # Errors
    /// The file is unreadable or readable by group or others.
    pub fn bearer_token_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        let (token, read) = read_secret_deferred(path, "bearer_token_file")?;
        self.secrets_read.push(read);
        Ok(self.bearer_token(token.trim()))
    }

    /// Verify the gateway's certificate against this PEM CA instead of the system's roots.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ca_file = Some(path.into());
        self
    }

    /// Present this client certificate (PEM chain) and key (PEM, mode 600) to a gateway that
    /// requires mutual TLS \[none\]. Both files are read and checked at `build`.
    #[must_use]
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.config.client_cert = Some((cert.into(), key.into()));
        self
    }

    /// Accept the gateway only if its certificate's public key has one of these SHA-256
    /// SubjectPublicKeyInfo digests (base64, as `openssl … | openssl dgst -sha256 -binary |
    /// base64` prints them; see docs/security.md), on top of normal verification, never
    /// instead of it \[no pins\]. Give two during a key rotation. A mismatch fails the push,
    /// counted as `pushes_total{reason="pin_mismatch"}`. Feature `tls`.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn pin_sha256<S: AsRef<str>>(mut self, pins: impl IntoIterator<Item = S>) -> Self {
        self.pins = pins.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// Send through this forward proxy (`http://HOST:PORT`; HTTPS pushes tunnel through it
    /// with `CONNECT`), instead of the one `http_proxy` / `https_proxy` / `all_proxy` name
    /// \[those variables, as curl reads them\]. Checked at `build`; credentials in the URL are
    /// taken, but [`proxy_credentials`](Self::proxy_credentials) keeps them out of it.
    #[must_use]
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy_url = Some(url.to_owned());
        self
    }

    /// Go direct to hosts on this comma-separated list (curl's `no_proxy` rules: names, domain
    /// suffixes, IP addresses and CIDR ranges, `*` for all) \[`no_proxy`\].
    #[must_use]
    pub fn no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = Some(list.to_owned());
        self
    }

    /// The proxy variables as `lookup` gives them, in place of the process environment's.
    pub(crate) fn proxy_from(mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        self.config.proxy = ProxySettings::from_env(lookup);
        self
    }

    /// Use no proxy at all, whatever the environment says (an error with [`Self::proxy`]).
    #[must_use]
    pub fn no_proxy_at_all(mut self) -> Self {
        self.proxy_off = true;
        self
    }

    /// Proxy credentials (Basic, in `Proxy-Authorization` only), instead of any in the proxy
    /// URL.
    #[must_use]
    pub fn proxy_credentials(mut self, user: &str, password: &str) -> Self {
        self.proxy_credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Proxy credentials with the password read from a file (mode 600).
    ///
    /// # Errors
    /// The file is unreadable.
    pub fn proxy_password_file(mut self, user: &str, path: &Path) -> Result<Self, ConfigError> {
        let (password, read) = read_secret_deferred(path, "proxy_password_file")?;
        self.secrets_read.push(read);
        Ok(self.proxy_credentials(user, password.trim_end_matches(['\r', '\n'])))
    }

    /// The circuit breaker \[opens after 5 failures in a row, probes again after 30 s\]: while
    /// open, pushes are not tried (counted as `pushes_total{reason="skipped_circuit_open"}`;
    /// the registry keeps the values, so the next push carries them); the last push at
    /// shutdown is always tried.
    #[must_use]
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.config.breaker = breaker;
        self
    }

    /// Only these gateway hosts may be used: names, `*.suffix` patterns, IP addresses \[any\].
    /// Any other host in the URL is an error at `build`. See also
    /// `CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS`.
    #[must_use]
    pub fn allowed_hosts<S: AsRef<str>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.allowed_hosts = hosts.into_iter().map(|h| h.as_ref().to_owned()).collect();
        self
    }

    /// What to do with secret files readable by group or others \[refuse\]; it applies to the
    /// file settings given before or after it (files are checked at `build`).
    #[must_use]
    pub fn secret_file_policy(mut self, policy: SecretFilePolicy) -> Self {
        self.secret_files = policy;
        self
    }

    /// Allows sending credentials over plain HTTP to a host that is not loopback \[refused\].
    #[must_use]
    pub fn allow_credentials_over_http(mut self, allow: bool) -> Self {
        self.allow_insecure_auth = allow;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// Credentials over plain HTTP to a non-loopback host (unless allowed), or `https` without
    /// the `tls` feature.
    pub fn build(self) -> Result<PushgatewayConfig, ConfigError> {
        check_read_secrets(&self.secrets_read, self.secret_files)?;
        let mut c = self.config;
        c.secret_files = self.secret_files;
        AllowedHosts::parse("allowed_hosts", &self.allowed_hosts)?.check("pushgateway url", &c.host)?;
        c.auth = match (self.basic, self.bearer) {
            (Some(_), Some(_)) => {
                return Err(invalid("pushgateway auth", "basic_auth and bearer_token are both set; choose one"))
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => PushAuth::None,
        };
        c.proxy = match (self.proxy_off, self.proxy_url) {
            (true, Some(_)) => {
                return Err(invalid("pushgateway proxy", "proxy(...) and no_proxy_at_all() are both set; choose one"))
            }
            (true, None) => ProxySettings::default(),
            (false, Some(url)) => ProxySettings { all: Some(url), no: c.proxy.no, ..ProxySettings::default() },
            (false, None) => c.proxy,
        };
        if !self.proxy_off {
            c.proxy.no = self.no_proxy.or(c.proxy.no);
            c.proxy.credentials = self.proxy_credentials;
        }
        c.proxy.build()?;
        #[cfg(feature = "tls")]
        {
            c.pins = crate::backend::outbound::pin::Pins::parse("pin_sha256", &self.pins)?;
        }
        if c.client_cert.is_some() && !c.https {
            return Err(invalid("client_cert", "a client certificate needs an https:// gateway URL"));
        }
        if let PushAuth::Basic(v) | PushAuth::Bearer(v) = &c.auth {
            // Checked here, so a credential that cannot travel in a header is an error now,
            // never a push that goes out without it. The value is not repeated.
            if v.bytes().any(|b| !(b == b' ' || b.is_ascii_graphic())) || v.ends_with(' ') {
                return Err(invalid(
                    "pushgateway auth",
                    "the credential has characters a header cannot carry (control characters or non-ASCII)",
                ));
            }
        }
        let loopback = c.host == "localhost" || c.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !c.https && !matches!(c.auth, PushAuth::None) && !loopback && !self.allow_insecure_auth {
            return Err(invalid(
                "pushgateway url",
                "credentials would cross the network in clear text: use https, or allow_credentials_over_http(true)",
            ));
        }
        if c.https && !cfg!(feature = "tls") {
            return Err(invalid(
                "pushgateway url",
                "https needs TLS; did you forget to enable the `tls` cargo feature?",
            ));
        }
        #[cfg(feature = "tls")]
        if c.https {
            // Reads the CA, the client certificate and its key now: a bad file is an error
            // here, not at the first push.
            c.tls_config()?;
        }
        #[cfg(feature = "tls")]
        if !c.pins.is_empty() && !c.https {
            return Err(invalid("pin_sha256", "pins need an https:// gateway URL"));
        }
        Ok(c)
    }
}
