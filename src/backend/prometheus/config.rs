//! Scrape-endpoint settings: secure by default, validated when built.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
#[cfg(feature = "tls")]
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use super::host::HostPolicy;
use crate::backend::secret_file::{check_read_secrets, read_secret_deferred, ReadSecret, SecretFilePolicy};
use crate::error::ConfigError;

/// The default port (the OpenTelemetry Prometheus exporter's).
pub const DEFAULT_PORT: u16 = 9464;

/// Shortest plain Basic-auth password accepted, in bytes (a bcrypt hash may hide any length).
pub const MIN_PASSWORD_LEN: usize = 12;
/// Shortest bearer token accepted, in bytes.
pub const MIN_TOKEN_LEN: usize = 16;
/// What marks a line of a Basic-auth file as a plain-text password: `user:plain:password`.
pub const PLAIN_PASSWORD_MARK: &str = "plain:";

/// How a Basic-auth password is given.
#[derive(Clone)]
pub(crate) enum Password {
    /// A bcrypt hash, as Prometheus' web config takes.
    Bcrypt(String),
    /// A plain password, compared in constant time.
    Plain(Vec<u8>),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bcrypt(_) => "Bcrypt(..)",
            Self::Plain(_) => "Plain(..)",
        })
    }
}

/// Rate limits: sustained requests per second and burst, per client address and in total.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

/// TLS settings for the endpoint.
#[cfg(feature = "tls")]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TlsSettings {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) client_ca: Option<PathBuf>,
    pub(crate) allowed_client_names: Vec<String>,
}

/// Where the server listens.
#[derive(Debug)]
pub(crate) enum Listen {
    Addr(SocketAddr),
    Listener(std::net::TcpListener),
}

/// Validated scrape-endpoint settings. Build with [`PrometheusConfig::builder`].
#[derive(Debug)]
pub struct PrometheusConfig {
    pub(crate) listen: Listen,
    pub(crate) settings: Arc<Settings>,
}

/// Everything but the listener, shared by the connection tasks. Its `Debug` names users and
/// counts tokens, never showing a password, a hash or a token.
pub(crate) struct Settings {
    pub(crate) path: String,
    pub(crate) health_path: Option<String>,
    pub(crate) basic: Vec<(String, Password)>,
    pub(crate) bearer: Vec<Vec<u8>>,
    pub(crate) allow: Vec<IpNet>,
    pub(crate) client_rate: RateLimit,
    pub(crate) global_rate: RateLimit,
    pub(crate) max_connections: usize,
    pub(crate) max_connections_per_client: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_header_bytes: usize,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsSettings>,
    pub(crate) secret_files: SecretFilePolicy,
    /// Which Host headers the built-in server answers (set by `build`, from the address and
    /// `allowed_hosts`).
    pub(crate) hosts: HostPolicy,
    /// Whether `allowed_hosts` was given (a handler mounted in an app applies only that).
    pub(crate) hosts_configured: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<&str> = self.basic.iter().map(|(u, _)| u.as_str()).collect();
        let mut d = f.debug_struct("Settings");
        d.field("path", &self.path)
            .field("health_path", &self.health_path)
            .field("basic_users", &users)
            .field("bearer_tokens", &format_args!("{} (redacted)", self.bearer.len()))
            .field("allow", &self.allow)
            .field("client_rate", &self.client_rate)
            .field("global_rate", &self.global_rate)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_client", &self.max_connections_per_client)
            .field("max_in_flight", &self.max_in_flight)
            .field("header_timeout", &self.header_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("hosts", &self.hosts);
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls);
        d.field("secret_files", &self.secret_files).finish()
    }
}

impl Settings {
    pub(crate) fn has_auth(&self) -> bool {
        !self.basic.is_empty() || !self.bearer.is_empty()
    }

    pub(crate) fn has_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }
}

/// Builds a [`PrometheusConfig`]. Defaults: `127.0.0.1:9464`, path `/metrics`, no auth,
/// 64 connections (8 per client address), 8 requests in flight, 10 requests/s per client
/// (burst 20), 100/s in total (burst 200), 5 s to read headers, 10 s per request (and for a
/// response write to make progress), 8 KiB of headers; on loopback, only loopback Host names.
///
/// ```
/// use codomyrmex_metrics::PrometheusConfig;
/// let config = PrometheusConfig::builder().listen("127.0.0.1:0".parse().unwrap()).build().unwrap();
/// # let _ = config;
/// // A public address needs auth or TLS, or an explicit opt-out:
/// let err = PrometheusConfig::builder().listen("0.0.0.0:9464".parse().unwrap()).build().unwrap_err();
/// assert!(err.to_string().contains("allow_unauthenticated_public_bind"));
/// ```
#[derive(Debug)]
pub struct PrometheusBuilder {
    listen: Listen,
    settings: Settings,
    allow_public: bool,
    allowed_hosts: Option<Vec<String>>,
    /// Secret files read by setters; their permissions are checked at `build`.
    secrets_read: Vec<ReadSecret>,
    #[cfg(feature = "tls")]
    tls: Option<(PathBuf, PathBuf)>,
    #[cfg(feature = "tls")]
    client_ca: Option<PathBuf>,
    #[cfg(feature = "tls")]
    client_names: Vec<String>,
}

impl Default for PrometheusBuilder {
    fn default() -> Self {
        Self {
            listen: Listen::Addr(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT)),
            settings: Settings {
                path: "/metrics".into(),
                health_path: None,
                basic: Vec::new(),
                bearer: Vec::new(),
                allow: Vec::new(),
                client_rate: RateLimit { per_second: 10, burst: 20 },
                global_rate: RateLimit { per_second: 100, burst: 200 },
                max_connections: 64,
                max_connections_per_client: 0,
                max_in_flight: 8,
                header_timeout: Duration::from_secs(5),
                request_timeout: Duration::from_secs(10),
                max_header_bytes: 8 * 1024,
                #[cfg(feature = "tls")]
                tls: None,
                secret_files: SecretFilePolicy::Refuse,
                hosts: HostPolicy::Loopback,
                hosts_configured: false,
            },
            allow_public: false,
            allowed_hosts: None,
            secrets_read: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            client_ca: None,
            #[cfg(feature = "tls")]
            client_names: Vec::new(),
        }
    }
}

impl PrometheusConfig {
    /// A builder with the secure defaults.
    pub fn builder() -> PrometheusBuilder {
        PrometheusBuilder::default()
    }

    /// The address the server will bind (or has bound, for a passed-in listener).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.listen {
            Listen::Addr(a) => Some(*a),
            Listen::Listener(l) => l.local_addr().ok(),
        }
    }
}

fn is_bcrypt(s: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"].iter().any(|p| s.starts_with(p))
}

/// Largest connection or in-flight limit (far above what one process can serve).
const MAX_LIMIT: usize = 1 << 20;
/// Longest timeout accepted; longer ones are cut to it.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting, reason: reason.into() }
}

impl PrometheusBuilder {
    /// The address to bind [127.0.0.1:9464].
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Listen::Addr(addr);
        self
    }

    /// Serves on a listener bound already (tests bind port 0 and pass it in).
    #[must_use]
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listen = Listen::Listener(listener);
        self
    }

    /// The metrics path [/metrics].
    ///
    /// # Errors
    /// When it does not start with `/`.
    pub fn path(mut self, path: &str) -> Result<Self, ConfigError> {
        if !path.starts_with('/') || path.len() > 256 {
            return Err(invalid("path", "the metrics path must start with `/` (at most 256 bytes)"));
        }
        self.settings.path = path.to_owned();
        Ok(self)
    }

    /// An unauthenticated health path that answers `200 ok` \[off\].
    ///
    /// # Errors
    /// When it does not start with `/` or equals the metrics path.
    pub fn health_path(mut self, path: &str) -> Result<Self, ConfigError> {
        if !path.starts_with('/') || path == self.settings.path {
            return Err(invalid("health_path", "the health path must start with `/` and differ from the metrics path"));
        }
        self.settings.health_path = Some(path.to_owned());
        Ok(self)
    }

    /// Adds a Basic-auth user. `password` is a bcrypt hash (`$2a$`, `$2b$`, `$2y$`, as in
    /// Prometheus' web config) or, if it is not one, a plain password of at least
    /// [`MIN_PASSWORD_LEN`] bytes.
    ///
    /// # Errors
    /// When the user name is empty or has a `:`, a hash is malformed, or a plain password is
    /// shorter than [`MIN_PASSWORD_LEN`] (an empty one would let anyone in).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Result<Self, ConfigError> {
        if user.is_empty() || user.contains(':') {
            return Err(invalid("basic_auth", "user names are non-empty and have no `:`"));
        }
        let secret = if is_bcrypt(password) {
            if password.parse::<bcrypt::HashParts>().is_err() {
                return Err(invalid("basic_auth", format!("the bcrypt hash of user {user:?} is malformed")));
            }
            Password::Bcrypt(password.to_owned())
        } else if password.len() < MIN_PASSWORD_LEN {
            return Err(invalid(
                "basic_auth",
                format!("the password of user {user:?} is shorter than {MIN_PASSWORD_LEN} bytes; use a longer one or a bcrypt hash"),
            ));
        } else {
            Password::Plain(password.as_bytes().to_vec())
        };
        self.settings.basic.push((user.to_owned(), secret));
        Ok(self)
    }

    /// Adds Basic-auth users from a file of `user:bcrypt-hash` lines (`#` comments), as
    /// Prometheus' web config takes them. A plain-text password must be marked as one:
    /// `user:plain:password` ([`PLAIN_PASSWORD_MARK`]), so a hash pasted wrong is never taken
    /// for a password.
    ///
    /// # Errors
    /// The file is unreadable, readable by group or others (see [`Self::secret_file_policy`]),
    /// or has a malformed line: no `:`, neither a bcrypt hash nor marked plain, or a password
    /// [`Self::basic_auth`] refuses (its number is reported, never its content).
    pub fn basic_auth_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        let (text, read) = read_secret_deferred(path, "basic_auth_file")?;
        self.secrets_read.push(read);
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let at = || format!("line {} of {}", n + 1, path.display());
            let (user, pass) = line
                .split_once(':')
                .ok_or_else(|| invalid("basic_auth_file", format!("{} is not user:bcrypt-hash", at())))?;
            let pass = pass.trim();
            let password = match pass.strip_prefix(PLAIN_PASSWORD_MARK) {
                Some(plain) => plain,
                None if is_bcrypt(pass) => pass,
                None => {
                    return Err(invalid(
                        "basic_auth_file",
                        format!(
                            "{} is not a bcrypt hash; mark a plain-text password as user:{PLAIN_PASSWORD_MARK}password",
                            at()
                        ),
                    ))
                }
            };
            self = self.basic_auth(user.trim(), password).map_err(|e| match e {
                ConfigError::Invalid { reason, .. } => invalid("basic_auth_file", format!("{}: {reason}", at())),
                other => other,
            })?;
        }
        Ok(self)
    }

    /// Accepts `Authorization: Bearer TOKEN`.
    ///
    /// # Errors
    /// When the token is shorter than [`MIN_TOKEN_LEN`] bytes or has white space.
    pub fn bearer_token(mut self, token: &str) -> Result<Self, ConfigError> {
        if token.len() < MIN_TOKEN_LEN || token.chars().any(char::is_whitespace) {
            return Err(invalid(
                "bearer_token",
                format!("tokens are at least {MIN_TOKEN_LEN} bytes, without white space"),
            ));
        }
        self.settings.bearer.push(token.as_bytes().to_vec());
        Ok(self)
    }

    /// Accepts the bearer token in a file.
    ///
    /// # Errors
    /// As [`Self::bearer_token`], and the file checks of [`Self::basic_auth_file`].
    pub fn bearer_token_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        let (token, read) = read_secret_deferred(path, "bearer_token_file")?;
        self.secrets_read.push(read);
        self.bearer_token(token.trim())
    }

    /// Only these addresses or networks may connect; others get 403 \[everyone\].
    ///
    /// # Errors
    /// When an entry is neither an address nor a CIDR network.
    pub fn allow_cidrs<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, cidrs: I) -> Result<Self, ConfigError> {
        for c in cidrs {
            let c = c.as_ref().trim();
            let net = c
                .parse::<IpNet>()
                .or_else(|_| c.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| invalid("allow_cidrs", format!("{c:?} is not an address or CIDR network")))?;
            self.settings.allow.push(net);
        }
        Ok(self)
    }

    /// Requests per second and burst for each client address [10, 20].
    #[must_use]
    pub fn client_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.settings.client_rate = RateLimit { per_second: per_second.max(1), burst: burst.max(1) };
        self
    }

    /// Requests per second and burst in total [100, 200].
    #[must_use]
    pub fn global_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.settings.global_rate = RateLimit { per_second: per_second.max(1), burst: burst.max(1) };
        self
    }

    /// Open connections; past it, new ones get 503 and are closed [64; at most 2^20].
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.settings.max_connections = n.clamp(1, MAX_LIMIT);
        self
    }

    /// Open connections one client may hold: an IPv4 address, or an IPv6 /64; past it, its new
    /// connections are closed at once \[an eighth of `max_connections`, at least 1\].
    #[must_use]
    pub fn max_connections_per_client(mut self, n: usize) -> Self {
        self.settings.max_connections_per_client = n.clamp(1, MAX_LIMIT);
        self
    }

    /// Requests being served at once; past it, 503 [8; at most 2^20]. One client address (an
    /// IPv6 client by its /64) holds at most a quarter of them (at least one).
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.settings.max_in_flight = n.clamp(1, MAX_LIMIT);
        self
    }

    /// Time to read a request's headers, and for a TLS handshake [5 s; 10 ms to 1 h].
    #[must_use]
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.settings.header_timeout = d.clamp(Duration::from_millis(10), MAX_TIMEOUT);
        self
    }

    /// Time to answer a request, and the longest a response write may wait for the client to
    /// read \[10 s; 10 ms to 1 h\].
    #[must_use]
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.settings.request_timeout = d.clamp(Duration::from_millis(10), MAX_TIMEOUT);
        self
    }

    /// Largest request head, in bytes [8 KiB, the least hyper allows].
    #[must_use]
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.settings.max_header_bytes = n.clamp(8 * 1024, 1 << 20);
        self
    }

    /// What to do with secret files readable by group or others \[refuse\]. It applies to every
    /// file setting, given before or after it: files are checked at `build`.
    #[must_use]
    pub fn secret_file_policy(mut self, policy: SecretFilePolicy) -> Self {
        self.settings.secret_files = policy;
        self
    }

    /// Serves HTTPS with this PEM certificate chain and private key, reloaded when they change.
    /// TLS 1.2 and 1.3 only.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls = Some((cert.into(), key.into()));
        self
    }

    /// Requires a client certificate signed by this CA (mTLS); needs [`Self::tls`], given
    /// before or after (without it, `build` fails).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn client_ca(mut self, ca: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(ca.into());
        self
    }

    /// With mTLS, only client certificates valid for one of these DNS names are served; needs
    /// [`Self::client_ca`].
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn allowed_client_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.client_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// The Host header values answered, without port (`metrics.internal`, `10.0.0.5`,
    /// `[2001:db8::5]`); others get 403, counted as `scrapes_total{reason="host_refused"}`.
    /// \[bound to loopback: `localhost`, `*.localhost` and loopback addresses, on any port,
    /// against DNS rebinding; bound elsewhere: any\]
    ///
    /// # Errors
    /// When an entry is empty or not a host.
    pub fn allowed_hosts<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, hosts: I) -> Result<Self, ConfigError> {
        let mut list = Vec::new();
        for h in hosts {
            let h = h.as_ref();
            let host = HostPolicy::normalise(h)
                .filter(|n| !n.contains(['/', '@', ' ']))
                .ok_or_else(|| invalid("allowed_hosts", format!("{h:?} is not a host name or address")))?;
            list.push(host);
        }
        if list.is_empty() {
            return Err(invalid("allowed_hosts", "the list is empty; leave it unset for the default"));
        }
        self.allowed_hosts = Some(list);
        Ok(self)
    }

    /// Allows a non-loopback address without auth or TLS \[refused\]. Anyone who can reach the
    /// address can then read every metric.
    #[must_use]
    pub fn allow_unauthenticated_public_bind(mut self, allow: bool) -> Self {
        self.allow_public = allow;
        self
    }

    /// Validates and builds. Setters may come in any order: everything that depends on another
    /// setting is checked here.
    ///
    /// # Errors
    /// A non-loopback address without auth or TLS (unless allowed), TLS files that are missing,
    /// unreadable, not PEM or readable by others, secret files readable by others (under the
    /// `secret_file_policy` in force here), a client CA without TLS, or client names without a
    /// client CA.
    pub fn build(self) -> Result<PrometheusConfig, ConfigError> {
        #[allow(unused_mut)]
        let mut settings = self.settings;
        check_read_secrets(&self.secrets_read, settings.secret_files)?;
        #[cfg(feature = "tls")]
        {
            if self.tls.is_none() && self.client_ca.is_some() {
                return Err(invalid("client_ca", "mTLS needs tls(cert, key) as well"));
            }
            if self.client_ca.is_none() && !self.client_names.is_empty() {
                return Err(invalid("allowed_client_names", "client names are checked only with client_ca (mTLS)"));
            }
            settings.tls = self.tls.map(|(cert, key)| TlsSettings {
                cert,
                key,
                client_ca: self.client_ca,
                allowed_client_names: self.client_names,
            });
            if let Some(t) = &settings.tls {
                super::tls::check_files(t, settings.secret_files)?;
            }
        }
        let addr = match &self.listen {
            Listen::Addr(a) => *a,
            Listen::Listener(l) => l.local_addr().map_err(|e| invalid("listener", format!("no local address: {e}")))?,
        };
        settings.hosts_configured = self.allowed_hosts.is_some();
        // Set in any order: the share follows the connection limit unless given.
        if settings.max_connections_per_client == 0 {
            settings.max_connections_per_client = (settings.max_connections / 8).max(1);
        }
        settings.max_connections_per_client = settings.max_connections_per_client.min(settings.max_connections);
        settings.hosts = match self.allowed_hosts {
            Some(list) => HostPolicy::Allowed(list),
            None if addr.ip().is_loopback() => HostPolicy::Loopback,
            None => HostPolicy::Any,
        };
        if !addr.ip().is_loopback() && !settings.has_auth() && !settings.has_tls() && !self.allow_public {
            return Err(invalid(
                "listen",
                format!(
                    "{addr} is not a loopback address and the endpoint has neither auth nor TLS; \
                     add basic_auth/bearer_token or tls, or call allow_unauthenticated_public_bind(true) to expose it anyway"
                ),
            ));
        }
        Ok(PrometheusConfig { listen: self.listen, settings: Arc::new(settings) })
    }
}
