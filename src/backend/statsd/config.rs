//! StatsD settings: transport, tag dialect, aggregation, sampling, payload and queue bounds.

use std::path::PathBuf;
use std::time::Duration;

use crate::backend::outbound::hosts::AllowedHosts;
use crate::backend::outbound::CircuitBreaker;
use crate::backend::retry::{backoff_bounds, MAX_DURATION};
use crate::backend::secret_file::SecretFilePolicy;
use crate::error::ConfigError;
use crate::policy::sanitize::statsd_wire;

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatsdTransport {
    /// UDP datagrams to `HOST:PORT` (cadence's UDP sink).
    Udp(String),
    /// Newline-framed lines over TCP to `HOST:PORT`.
    Tcp(String),
    /// Newline-framed lines over TLS (rustls) to `HOST:PORT` (feature `tls`).
    Tls(String),
    /// Newline-framed lines over a Unix stream socket.
    Unix(PathBuf),
    /// Datagrams to a Unix datagram socket (cadence's Unix sink).
    Unixgram(PathBuf),
}

impl StatsdTransport {
    /// Default largest payload: 1432 bytes for UDP (fits an Ethernet MTU), 8192 otherwise.
    pub fn default_max_payload(&self) -> usize {
        match self {
            Self::Udp(_) => 1432,
            _ => 8192,
        }
    }

    /// Whether lines travel on a stream (each ends with `\n`) rather than in datagrams.
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self, Self::Tcp(_) | Self::Tls(_) | Self::Unix(_))
    }
}

/// How labels travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// Plain Etsy StatsD: no tags; labels are folded into the name or dropped ([`EtsyLabels`]).
    #[default]
    Etsy,
    /// DogStatsD tags: `name:1|c|#k:v,k2:v2`.
    DogStatsd,
    /// InfluxDB/Telegraf tags in the name: `name,k=v,k2=v2:1|c`.
    Influx,
}

/// What the Etsy dialect does with labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EtsyLabels {
    /// Appended to the name as `.key.value` segments (dots inside become `_`).
    #[default]
    Fold,
    /// Dropped: series that differ only by labels share one StatsD key.
    Drop,
}

/// The StatsD type histogram samples are sent as. Every value keeps its precision: timers are
/// written in fractional milliseconds (`0.25|ms`), which every StatsD server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HistogramAs {
    /// Durations (a family in seconds, or named `_seconds`, `_milliseconds`, `_ms`) as `ms`
    /// timers in milliseconds; other values as recorded: `h` in the DogStatsD and InfluxDB
    /// dialects, an `ms` line in Etsy, whose daemon has no other distribution type (default).
    #[default]
    Auto,
    /// Every histogram as an `ms` timer (a family in seconds is multiplied by 1000).
    Timer,
    /// DogStatsD/Telegraf `h`, the value as recorded.
    Histogram,
    /// DogStatsD `d`, the value as recorded.
    Distribution,
}

/// Validated StatsD settings. Build with [`StatsdConfig::builder`].
#[derive(Debug, Clone)]
pub struct StatsdConfig {
    pub(crate) transport: StatsdTransport,
    pub(crate) dialect: Dialect,
    pub(crate) etsy_labels: EtsyLabels,
    pub(crate) prefix: String,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) aggregate: bool,
    pub(crate) flush_interval: Duration,
    pub(crate) sample_rate: f64,
    pub(crate) histogram_as: HistogramAs,
    pub(crate) max_payload: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) send_queue_capacity: usize,
    pub(crate) send_unchanged_gauges: bool,
    pub(crate) self_metrics: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) shutdown_budget: Duration,
    pub(crate) server_name: Option<String>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_cert: Option<(PathBuf, PathBuf)>,
    pub(crate) secret_files: SecretFilePolicy,
    #[cfg(feature = "tls")]
    pub(crate) pins: crate::backend::outbound::pin::Pins,
    pub(crate) breaker: CircuitBreaker,
}

/// Builds a [`StatsdConfig`]. Defaults: Etsy dialect with labels folded into the name, client
/// side aggregation on with a 1 s flush, histogram samples as `ms` timers unsampled, payloads
/// of at most 1432 bytes (UDP) or 8192 (streams), a queue of 16,384 points and one of 1,024
/// payloads, 2 s connect and write timeouts, reconnects backing off from 100 ms to 10 s with
/// jitter, 5 s to flush at shutdown, TLS verified against the system's roots.
///
/// ```
/// use codomyrmex_metrics::{Dialect, StatsdConfig};
/// let config = StatsdConfig::udp("127.0.0.1:8125")
///     .dialect(Dialect::DogStatsd)
///     .prefix("shop").unwrap()
///     .tag("env", "prod").unwrap()
///     .build()
///     .unwrap();
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct StatsdBuilder {
    config: StatsdConfig,
    max_payload: Option<usize>,
    allowed_hosts: Vec<String>,
    #[cfg(feature = "tls")]
    pins: Vec<String>,
}

/// Largest payload accepted (a UDP datagram's limit is 65,507 bytes).
pub const MAX_PAYLOAD: usize = 65_507;
/// Smallest payload accepted.
pub const MIN_PAYLOAD: usize = 64;
/// Largest queue accepted (points or payloads).
const MAX_QUEUE: usize = 1 << 24;

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting, reason: reason.into() }
}

fn wire_clean(setting: &'static str, what: &str) -> Result<(), ConfigError> {
    if what.is_empty() || statsd_wire(what) != what {
        return Err(invalid(
            setting,
            format!("{what:?} must be non-empty, without white space, control characters or any of : | @ # , ="),
        ));
    }
    Ok(())
}

impl StatsdConfig {
    /// A builder for `transport`.
    pub fn builder(transport: StatsdTransport) -> StatsdBuilder {
        StatsdBuilder {
            config: StatsdConfig {
                transport,
                dialect: Dialect::Etsy,
                etsy_labels: EtsyLabels::Fold,
                prefix: String::new(),
                tags: Vec::new(),
                aggregate: true,
                flush_interval: Duration::from_secs(1),
                sample_rate: 1.0,
                histogram_as: HistogramAs::Auto,
                max_payload: 0,
                queue_capacity: 16_384,
                send_queue_capacity: 1_024,
                send_unchanged_gauges: true,
                self_metrics: true,
                connect_timeout: Duration::from_secs(2),
                write_timeout: Duration::from_secs(2),
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(10),
                shutdown_budget: Duration::from_secs(5),
                server_name: None,
                ca_file: None,
                client_cert: None,
                secret_files: SecretFilePolicy::Refuse,
                #[cfg(feature = "tls")]
                pins: crate::backend::outbound::pin::Pins::default(),
                // A StatsD restart takes seconds; its data is live, so the probe comes sooner.
                breaker: CircuitBreaker::new(5, Duration::from_secs(5)),
            },
            max_payload: None,
            allowed_hosts: Vec::new(),
            #[cfg(feature = "tls")]
            pins: Vec::new(),
        }
    }

    /// UDP to `addr` (`HOST:PORT`).
    pub fn udp(addr: impl Into<String>) -> StatsdBuilder {
        Self::builder(StatsdTransport::Udp(addr.into()))
    }

    /// TCP to `addr` (`HOST:PORT`).
    pub fn tcp(addr: impl Into<String>) -> StatsdBuilder {
        Self::builder(StatsdTransport::Tcp(addr.into()))
    }

    /// TLS over TCP to `addr` (`HOST:PORT`; feature `tls`).
    pub fn tls(addr: impl Into<String>) -> StatsdBuilder {
        Self::builder(StatsdTransport::Tls(addr.into()))
    }

    /// A Unix stream socket.
    pub fn unix(path: impl Into<PathBuf>) -> StatsdBuilder {
        Self::builder(StatsdTransport::Unix(path.into()))
    }

    /// A Unix datagram socket.
    pub fn unixgram(path: impl Into<PathBuf>) -> StatsdBuilder {
        Self::builder(StatsdTransport::Unixgram(path.into()))
    }

    /// The transport.
    pub fn transport(&self) -> &StatsdTransport {
        &self.transport
    }

    /// The largest payload sent, in bytes.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }
}

impl StatsdBuilder {
    /// The tag dialect \[Etsy\].
    #[must_use]
    pub fn dialect(mut self, d: Dialect) -> Self {
        self.config.dialect = d;
        self
    }

    /// What the Etsy dialect does with labels [fold them into the name].
    #[must_use]
    pub fn etsy_labels(mut self, l: EtsyLabels) -> Self {
        self.config.etsy_labels = l;
        self
    }

    /// A prefix for every name, joined with `.` \[none\].
    ///
    /// # Errors
    /// A prefix with white space, control characters or any of `: | @ # , =`.
    pub fn prefix(mut self, prefix: &str) -> Result<Self, ConfigError> {
        let p = prefix.trim_end_matches('.');
        wire_clean("statsd prefix", p)?;
        self.config.prefix = p.to_owned();
        Ok(self)
    }

    /// A tag on every line (folded into the name like labels in the Etsy and InfluxDB dialects).
    ///
    /// # Errors
    /// A key or value with white space, control characters or any of `: | @ # , =`.
    pub fn tag(mut self, key: &str, value: &str) -> Result<Self, ConfigError> {
        wire_clean("statsd tag", key)?;
        wire_clean("statsd tag", value)?;
        self.config.tags.push((key.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Client-side aggregation \[on\]: counters summed and gauges sent once per flush interval.
    /// Off is immediate mode: every increment and every gauge change is its own line.
    #[must_use]
    pub fn aggregate(mut self, on: bool) -> Self {
        self.config.aggregate = on;
        self
    }

    /// How often aggregates are sent and buffered lines flushed [1 s; 10 ms to 24 h].
    #[must_use]
    pub fn flush_interval(mut self, d: Duration) -> Self {
        self.config.flush_interval = d.clamp(Duration::from_millis(10), MAX_DURATION);
        self
    }

    /// The share of histogram samples sent, written as `|@rate` [1.0].
    ///
    /// # Errors
    /// A rate outside (0, 1].
    pub fn sample_rate(mut self, rate: f64) -> Result<Self, ConfigError> {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(invalid("statsd sample_rate", format!("{rate} is not in (0, 1]")));
        }
        self.config.sample_rate = rate;
        Ok(self)
    }

    /// The StatsD type of histogram samples \[`Auto`: durations as `ms` timers, other values as
    /// the dialect allows\].
    #[must_use]
    pub fn histogram_as(mut self, h: HistogramAs) -> Self {
        self.config.histogram_as = h;
        self
    }

    /// The largest payload in bytes [1432 for UDP, 8192 otherwise].
    ///
    /// # Errors
    /// A size outside [`MIN_PAYLOAD`]..=[`MAX_PAYLOAD`].
    pub fn max_payload(mut self, bytes: usize) -> Result<Self, ConfigError> {
        if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&bytes) {
            return Err(invalid("statsd max_payload", format!("{bytes} is not in {MIN_PAYLOAD}..={MAX_PAYLOAD}")));
        }
        self.max_payload = Some(bytes);
        Ok(self)
    }

    /// Points the recording side may queue before new ones are dropped and counted \[16,384\].
    #[must_use]
    pub fn queue_capacity(mut self, points: usize) -> Self {
        self.config.queue_capacity = points.clamp(1, MAX_QUEUE);
        self
    }

    /// Payloads waiting for the transport (through an outage) before new ones are dropped and
    /// counted \[1,024\].
    #[must_use]
    pub fn send_queue_capacity(mut self, payloads: usize) -> Self {
        self.config.send_queue_capacity = payloads.clamp(1, MAX_QUEUE);
        self
    }

    /// Send every gauge at every flush, changed or not \[on\]; off sends only changed gauges.
    #[must_use]
    pub fn send_unchanged_gauges(mut self, on: bool) -> Self {
        self.config.send_unchanged_gauges = on;
        self
    }

    /// Send the crate's own counters (`codomyrmex_metrics_*`) too \[on\].
    #[must_use]
    pub fn self_metrics(mut self, on: bool) -> Self {
        self.config.self_metrics = on;
        self
    }

    /// Time to connect, TLS handshake included [2 s].
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d.clamp(Duration::from_millis(1), MAX_DURATION);
        self
    }

    /// Time one write may block [2 s].
    #[must_use]
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.config.write_timeout = d.clamp(Duration::from_millis(1), MAX_DURATION);
        self
    }

    /// First and largest wait between reconnects [100 ms, 10 s]; waits double, with jitter.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        (self.config.initial_backoff, self.config.max_backoff) = backoff_bounds(initial, max);
        self
    }

    /// Time the last flush at shutdown may take [5 s]; what is still queued then is dropped
    /// and counted.
    #[must_use]
    pub fn shutdown_budget(mut self, d: Duration) -> Self {
        self.config.shutdown_budget = d.min(MAX_DURATION);
        self
    }

    /// The name the server's certificate must carry [the host of the address].
    #[must_use]
    pub fn server_name(mut self, name: &str) -> Self {
        self.config.server_name = Some(name.to_owned());
        self
    }

    /// Verify the server's certificate against this PEM CA instead of the system's roots.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ca_file = Some(path.into());
        self
    }

    /// Present this client certificate chain and key (PEM; the key file mode 600).
    #[must_use]
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.config.client_cert = Some((cert.into(), key.into()));
        self
    }

    /// Accept the server only if its certificate's public key has one of these SHA-256
    /// SubjectPublicKeyInfo digests (base64; see docs/security.md), on top of normal
    /// verification, never instead of it \[no pins\]. A mismatch fails the connection, counted
    /// as `statsd_send_errors_total{reason="pin_mismatch"}`. TLS transport only.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn pin_sha256<S: AsRef<str>>(mut self, pins: impl IntoIterator<Item = S>) -> Self {
        self.pins = pins.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// The circuit breaker of the stream transports (TCP, TLS, Unix) \[opens after 5 failed
    /// connects in a row, which the backoff spreads over about 3 s; probes again after 5 s\]: while open, payloads are dropped at once
    /// and counted (`statsd_points_total{reason="circuit_open"}`) instead of waiting for a
    /// server that is away. Datagrams (UDP, Unix datagram) have no connection to break.
    #[must_use]
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.config.breaker = breaker;
        self
    }

    /// Only these server hosts may be used: names, `*.suffix` patterns, IP addresses \[any\].
    /// Any other host in the address is an error at `build`; Unix sockets need no entry. See
    /// also `CODOMYRMEX_METRICS_ALLOWED_BACKEND_HOSTS`.
    #[must_use]
    pub fn allowed_hosts<S: AsRef<str>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.allowed_hosts = hosts.into_iter().map(|h| h.as_ref().to_owned()).collect();
        self
    }

    /// What to do with a key file readable by group or others \[refuse\].
    #[must_use]
    pub fn secret_file_policy(mut self, policy: SecretFilePolicy) -> Self {
        self.config.secret_files = policy;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// An empty address or path, a payload limit a UDP datagram cannot carry, TLS without the
    /// `tls` feature, or TLS settings on a transport that is not TLS.
    pub fn build(self) -> Result<StatsdConfig, ConfigError> {
        let mut c = self.config;
        c.max_payload = self.max_payload.unwrap_or_else(|| c.transport.default_max_payload());
        match &c.transport {
            StatsdTransport::Udp(a) | StatsdTransport::Tcp(a) | StatsdTransport::Tls(a) => {
                let port = a.rsplit_once(':').and_then(|(h, p)| (!h.is_empty()).then_some(p));
                if port.and_then(|p| p.parse::<u16>().ok()).is_none_or(|p| p == 0) {
                    return Err(invalid("statsd address", format!("{a:?} is not HOST:PORT")));
                }
                let host = a.rsplit_once(':').map_or(a.as_str(), |(h, _)| h);
                AllowedHosts::parse("allowed_hosts", &self.allowed_hosts)?.check("statsd address", host)?;
            }
            StatsdTransport::Unix(p) | StatsdTransport::Unixgram(p) => {
                if p.as_os_str().is_empty() {
                    return Err(invalid("statsd path", "the socket path is empty"));
                }
            }
        }
        let tls = matches!(c.transport, StatsdTransport::Tls(_));
        if tls && !cfg!(feature = "tls") {
            return Err(invalid("statsd transport", "TLS needs the `tls` cargo feature"));
        }
        if !tls && (c.ca_file.is_some() || c.client_cert.is_some() || c.server_name.is_some()) {
            return Err(invalid("statsd tls", "ca_file, client_cert and server_name need the TLS transport"));
        }
        #[cfg(feature = "tls")]
        {
            c.pins = crate::backend::outbound::pin::Pins::parse("pin_sha256", &self.pins)?;
            if !tls && !c.pins.is_empty() {
                return Err(invalid("pin_sha256", "pins need the TLS transport"));
            }
        }
        Ok(c)
    }
}
