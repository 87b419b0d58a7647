//! [`OtlpConfig`] and its builder: where the exporter sends, how, and how often.

use std::path::PathBuf;
use std::time::Duration;

use crate::backend::outbound::hosts::AllowedHosts;
use crate::backend::outbound::proxy::ProxySettings;
use crate::backend::outbound::CircuitBreaker;
use crate::backend::retry::{backoff_bounds, MAX_DURATION};
use crate::backend::secret_file::SecretFilePolicy;
use crate::error::ConfigError;

/// How requests travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies, `POST /v1/metrics` (default).
    #[default]
    HttpProtobuf,
    /// OTLP/gRPC, `MetricsService/Export` over HTTP/2 (feature `otlp-grpc`).
    #[cfg(feature = "otlp-grpc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp-grpc")))]
    Grpc,
}

/// Whether request bodies are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OtlpCompression {
    /// Sent as they are (default, as OpenTelemetry's).
    #[default]
    None,
    /// gzip (`Content-Encoding: gzip`).
    Gzip,
}

/// Which temporality counters and histograms are exported with, as
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` names them. Gauges are gauges whatever
/// the preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Temporality {
    /// Every point holds the total since the series began (default).
    #[default]
    Cumulative,
    /// Counters and histograms hold what changed since the previous accepted export.
    Delta,
    /// As [`Temporality::Delta`] for the kinds this crate has (synchronous counters and
    /// histograms are delta under `lowmemory` as under `delta`).
    LowMemory,
}

impl Temporality {
    /// Whether counters and histograms are exported as deltas.
    pub fn is_delta(self) -> bool {
        !matches!(self, Self::Cumulative)
    }
}

/// An OTLP exporter's settings. Build with [`OtlpConfig::builder`], from a URL
/// (`otlp+http://HOST:PORT`, `otlp+https://…`) or from the OpenTelemetry variables
/// ([`OtlpConfig::from_env`]).
#[derive(Clone)]
pub struct OtlpConfig {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
    pub(crate) protocol: OtlpProtocol,
    /// Header values are secrets as often as not (API keys): never shown.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) compression: OtlpCompression,
    pub(crate) interval: Duration,
    pub(crate) temporality: Temporality,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_cert: Option<(PathBuf, PathBuf)>,
    #[cfg(feature = "tls")]
    pub(crate) pins: crate::backend::outbound::pin::Pins,
    pub(crate) secret_files: SecretFilePolicy,
    pub(crate) proxy: ProxySettings,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) shutdown_budget: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_request_bytes: usize,
}

impl std::fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint())
            .field("protocol", &self.protocol)
            .field("headers", &names)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("interval", &self.interval)
            .field("temporality", &self.temporality)
            .field("resource", &self.resource)
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .field("proxy", &self.proxy)
            .field("max_request_bytes", &self.max_request_bytes)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OtlpConfig`]. Defaults: OTLP/HTTP protobuf, export every 60 s (OpenTelemetry's
/// default) and once more at shutdown (given 5 s), cumulative temporality, no compression, a
/// 10 s timeout per request, retries of the retryable answers with exponential backoff from
/// 1 s up to 30 s with jitter, requests of at most 4 MiB (a larger export is split), TLS
/// verified against the system's roots, the proxy of `http_proxy` / `https_proxy` /
/// `no_proxy` if set, a circuit breaker that opens after 5 failures in a row for 30 s.
///
/// ```
/// use codomyrmex_metrics::{OtlpConfig, Temporality};
/// let config = OtlpConfig::builder("http://127.0.0.1:4318").unwrap()
///     .header("x-tenant", "blue")
///     .temporality(Temporality::Delta)
///     .resource_attribute("service.name", "checkout")
///     .build()
///     .unwrap();
/// assert!(format!("{config:?}").contains("x-tenant"));
/// ```
#[derive(Debug)]
pub struct OtlpBuilder {
    config: OtlpConfig,
    allowed_hosts: Vec<String>,
    #[cfg(feature = "tls")]
    pins: Vec<String>,
    proxy_url: Option<String>,
    proxy_off: bool,
}

pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting, reason: reason.into() }
}

/// The path requests go to when the endpoint names none (OTLP/HTTP's signal path).
pub(crate) const METRICS_PATH: &str = "/v1/metrics";

impl OtlpConfig {
    /// A builder for the receiver at `url`: `http://HOST:PORT[/PATH]` or `https://…`. A URL
    /// without a path gets `/v1/metrics`; one with a path is used as it is (as
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is).
    ///
    /// # Errors
    /// An unparsable URL, another scheme, or a URL with credentials or a query.
    pub fn builder(url: &str) -> Result<OtlpBuilder, ConfigError> {
        let reason = |e: ConfigError| match e {
            ConfigError::InvalidUrl { reason, .. } => invalid("otlp endpoint", reason),
            other => other,
        };
        let u = crate::backend::url::BackendUrl::parse(url).map_err(reason)?;
        let (https, grpc) = match u.scheme().as_str() {
            "http" | "otlp+http" => (false, false),
            "https" | "otlp+https" => (true, false),
            "otlp+grpc" => (false, true),
            "otlp+grpcs" => (true, true),
            other => {
                return Err(invalid(
                    "otlp endpoint",
                    format!("scheme {other:?}: expected http, https, otlp+http, otlp+https, otlp+grpc or otlp+grpcs"),
                ))
            }
        };
        let protocol = match grpc {
            false => OtlpProtocol::HttpProtobuf,
            #[cfg(feature = "otlp-grpc")]
            true => OtlpProtocol::Grpc,
            #[cfg(not(feature = "otlp-grpc"))]
            true => return Err(invalid("otlp endpoint", "OTLP/gRPC needs the `otlp-grpc` cargo feature")),
        };
        if u.has_userinfo_or_query() {
            return Err(invalid("otlp endpoint", "credentials go in headers, never in the URL, and it takes no query"));
        }
        let host = match u.host().map_err(reason)? {
            Some(crate::backend::url::Host::Ip(ip)) => ip.to_string(),
            Some(crate::backend::url::Host::Name(name)) => name,
            None => return Err(invalid("otlp endpoint", "no host")),
        };
        let port = u.port().map_err(reason)?.unwrap_or(match (https, grpc) {
            (true, _) => 443,
            (false, true) => 4317,
            (false, false) => 4318,
        });
        let path = match u.path() {
            "" | "/" => METRICS_PATH.to_owned(),
            p => p.to_owned(),
        };
        Ok(OtlpBuilder {
            config: OtlpConfig {
                https,
                host,
                port,
                path,
                protocol,
                headers: Vec::new(),
                timeout: Duration::from_secs(10),
                compression: OtlpCompression::None,
                interval: Duration::from_secs(60),
                temporality: Temporality::Cumulative,
                resource: Vec::new(),
                ca_file: None,
                client_cert: None,
                #[cfg(feature = "tls")]
                pins: crate::backend::outbound::pin::Pins::default(),
                secret_files: SecretFilePolicy::Refuse,
                proxy: ProxySettings::from_env(&|k| std::env::var(k).ok()),
                breaker: CircuitBreaker::default(),
                shutdown_budget: Duration::from_secs(5),
                initial_backoff: Duration::from_secs(1),
                max_backoff: Duration::from_secs(30),
                max_request_bytes: 4 << 20,
            },
            allowed_hosts: Vec::new(),
            #[cfg(feature = "tls")]
            pins: Vec::new(),
            proxy_url: None,
            proxy_off: false,
        })
    }

    /// The endpoint requests go to, `scheme://host:port/path`.
    pub fn endpoint(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let scheme = if self.https { "https" } else { "http" };
        match self.protocol {
            OtlpProtocol::HttpProtobuf => format!("{scheme}://{host}:{}{}", self.port, self.path),
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => format!("{scheme}://{host}:{} (gRPC)", self.port),
        }
    }

    /// The TLS client configuration these settings make (CA, client certificate, pins).
    #[cfg(feature = "tls")]
    pub(crate) fn tls_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, ConfigError> {
        crate::backend::tls_client::client_config(
            "otlp tls",
            self.ca_file.as_deref(),
            self.client_cert.as_ref(),
            self.secret_files,
            &self.pins,
        )
    }
}

impl OtlpBuilder {
    /// The endpoint's host.
    pub(crate) fn host(&self) -> &str {
        &self.config.host
    }

    /// The proxy variables as `lookup` gives them, instead of the process environment's.
    pub(crate) fn proxy_from(mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        self.config.proxy = ProxySettings::from_env(lookup);
        self
    }

    /// A header sent with every request (an API key, a tenant). Values are never shown in a
    /// `Debug`, error or log line; a name given twice keeps the last value.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = name.trim().to_ascii_lowercase();
        self.config.headers.retain(|(k, _)| *k != name);
        self.config.headers.push((name, value.trim().to_owned()));
        self
    }

    /// How often to export \[60 s\]; at most a day.
    #[must_use]
    pub fn interval(mut self, d: Duration) -> Self {
        self.config.interval = d.clamp(Duration::from_millis(1), MAX_DURATION);
        self
    }

    /// How long one request may take \[10 s\].
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.config.timeout = d.clamp(Duration::from_millis(1), MAX_DURATION);
        self
    }

    /// How long the last export at shutdown may take, retries included \[5 s\].
    #[must_use]
    pub fn shutdown_budget(mut self, d: Duration) -> Self {
        self.config.shutdown_budget = d.min(MAX_DURATION);
        self
    }

    /// First and largest wait between retries \[1 s, 30 s\]; each wait doubles, with jitter.
    /// A `Retry-After` from the receiver is honoured instead, up to the largest.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        (self.config.initial_backoff, self.config.max_backoff) = backoff_bounds(initial, max);
        self
    }

    /// Request body compression \[none\].
    #[must_use]
    pub fn compression(mut self, c: OtlpCompression) -> Self {
        self.config.compression = c;
        self
    }

    /// The transport \[HTTP/protobuf; gRPC for an `otlp+grpc://` or `otlp+grpcs://` URL\].
    #[must_use]
    pub fn protocol(mut self, p: OtlpProtocol) -> Self {
        self.config.protocol = p;
        self
    }

    /// Cumulative or delta counters and histograms \[cumulative\].
    #[must_use]
    pub fn temporality(mut self, t: Temporality) -> Self {
        self.config.temporality = t;
        self
    }

    /// A resource attribute (`service.name`, `deployment.environment`, …); given twice, the
    /// last value stays. Values pass the sensitive-data guard when the exporter starts.
    #[must_use]
    pub fn resource_attribute(mut self, key: &str, value: &str) -> Self {
        self.config.resource.retain(|(k, _)| k != key);
        self.config.resource.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds the resource attributes `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` give
    /// (what [`OtlpConfig::from_env`] and an `otlp+http://` URL do by themselves); attributes
    /// set in code afterwards win.
    ///
    /// # Errors
    /// [`ConfigError::Env`] naming the variable, for an entry that is not `key=value`.
    pub fn resource_from_env(mut self) -> Result<Self, ConfigError> {
        for (k, v) in super::from_env::resource(&|k| std::env::var(k).ok())? {
            self = self.resource_attribute(&k, &v);
        }
        Ok(self)
    }

    /// Largest request body before compression \[4 MiB\]; a larger export is split into
    /// several requests. At least 4 KiB.
    #[must_use]
    pub fn max_request_bytes(mut self, n: usize) -> Self {
        self.config.max_request_bytes = n.max(4096);
        self
    }

    /// A PEM file of CA certificates to trust instead of the system's roots.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ca_file = Some(path.into());
        self
    }

    /// A client certificate and its key (PEM files), for receivers that require mTLS.
    #[must_use]
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.config.client_cert = Some((cert.into(), key.into()));
        self
    }

    /// SHA-256 pins of the receiver's public key (base64 of the SPKI digest), checked on top
    /// of normal verification \[no pins\]. Give two during a key rotation.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn pin_sha256<S: AsRef<str>>(mut self, pins: impl IntoIterator<Item = S>) -> Self {
        self.pins = pins.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// A forward proxy for every request, instead of `http_proxy` / `https_proxy`.
    #[must_use]
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy_url = Some(url.to_owned());
        self
    }

    /// No proxy at all, whatever the environment says.
    #[must_use]
    pub fn no_proxy_at_all(mut self) -> Self {
        self.proxy_off = true;
        self
    }

    /// The circuit breaker's settings (see [`CircuitBreaker`]).
    #[must_use]
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.config.breaker = breaker;
        self
    }

    /// Hosts the endpoint may name (names, `*.suffix`, IP addresses) \[any\].
    #[must_use]
    pub fn allowed_hosts<S: AsRef<str>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.allowed_hosts = hosts.into_iter().map(|h| h.as_ref().to_owned()).collect();
        self
    }

    /// What to do with a key file that group or others can read \[refuse\].
    #[must_use]
    pub fn secret_file_policy(mut self, policy: SecretFilePolicy) -> Self {
        self.config.secret_files = policy;
        self
    }

    /// Checks the settings together and reads the TLS files now, so a bad one is an error here
    /// and not at the first export.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting: a header a request cannot carry, a host
    /// not allowed, a client certificate or pins without https, https without the `tls`
    /// feature, an unreadable CA or key file.
    pub fn build(self) -> Result<OtlpConfig, ConfigError> {
        let mut c = self.config;
        AllowedHosts::parse("allowed_hosts", &self.allowed_hosts)?.check("otlp endpoint", &c.host)?;
        for (name, value) in &c.headers {
            if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(invalid("otlp headers", format!("{name:?} is not a header name")));
            }
            // The value is not repeated: it may be a key.
            if hyper::header::HeaderValue::from_str(value).is_err() {
                return Err(invalid(
                    "otlp headers",
                    format!("the value of {name:?} has characters a header cannot carry"),
                ));
            }
        }
        c.proxy = match (self.proxy_off, self.proxy_url) {
            (true, Some(_)) => return Err(invalid("otlp proxy", "proxy(...) and no_proxy_at_all() are both set")),
            (true, None) => ProxySettings::default(),
            (false, Some(url)) => ProxySettings { all: Some(url), no: c.proxy.no, ..ProxySettings::default() },
            (false, None) => c.proxy,
        };
        c.proxy.build()?;
        if c.client_cert.is_some() && !c.https {
            return Err(invalid("client_cert", "a client certificate needs an https:// endpoint"));
        }
        if c.https && !cfg!(feature = "tls") {
            return Err(invalid("otlp endpoint", "https needs TLS; did you forget to enable the `tls` cargo feature?"));
        }
        #[cfg(feature = "tls")]
        {
            c.pins = crate::backend::outbound::pin::Pins::parse("pin_sha256", &self.pins)?;
            if !c.pins.is_empty() && !c.https {
                return Err(invalid("pin_sha256", "pins need an https:// endpoint"));
            }
            if c.https {
                c.tls_config()?;
            }
        }
        Ok(c)
    }
}
