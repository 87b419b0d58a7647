//! The transport end: cadence's UDP and Unix datagram sinks, or the crate's stream sink, behind
//! one `MetricSink` that counts what it sends and what it loses. It runs on the thread of
//! cadence's queuing sink.

use std::io;
use std::net::{ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use cadence::{MetricSink, UdpMetricSink, UnixMetricSink};

use super::config::{StatsdConfig, StatsdTransport};
use super::events::{Counters, StatsdEvent};
use super::stream::{Connector, StreamSink, Timing};
use super::wire::points_in;
use crate::error::ConfigError;

/// A resolved transport, checked at configuration time and opened when the exporter starts.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Udp(std::net::SocketAddr),
    Unixgram(std::path::PathBuf),
    Stream(Connector),
}

impl Plan {
    pub(crate) fn new(c: &StatsdConfig) -> Result<Self, ConfigError> {
        let bad = |reason: String| ConfigError::Invalid { setting: "statsd address", reason };
        Ok(match &c.transport {
            StatsdTransport::Udp(a) => Plan::Udp(
                a.to_socket_addrs()
                    .map_err(|e| bad(format!("{a:?} does not resolve: {e}")))?
                    .next()
                    .ok_or_else(|| bad(format!("{a:?} resolves to nothing")))?,
            ),
            StatsdTransport::Unixgram(p) => Plan::Unixgram(p.clone()),
            StatsdTransport::Tcp(a) => Plan::Stream(Connector::Tcp(a.clone())),
            StatsdTransport::Unix(p) => Plan::Stream(Connector::Unix(p.clone())),
            #[cfg(feature = "tls")]
            StatsdTransport::Tls(a) => Plan::Stream(super::tls::connector(a, c)?),
            #[cfg(not(feature = "tls"))]
            StatsdTransport::Tls(_) => {
                return Err(ConfigError::Invalid {
                    setting: "statsd transport",
                    reason: "TLS needs the `tls` feature".into(),
                })
            }
        })
    }
}

enum Transport {
    Udp(UdpMetricSink),
    Unixgram(UnixMetricSink),
    Stream(StreamSink),
}

/// Counts sent lines, payloads, bytes and points, and lost points by reason.
pub(crate) struct CountingSink {
    transport: Transport,
    events: Counters,
    gauge_reset: bool,
    /// Set when the shutdown budget is spent: what is still queued is given up and counted.
    abandon: Arc<AtomicBool>,
    /// Payloads handled, sent or not (the worker waits for this at shutdown).
    pub(crate) done: Arc<AtomicU64>,
}

impl CountingSink {
    pub(crate) fn open(plan: &Plan, c: &StatsdConfig, events: Counters, abandon: Arc<AtomicBool>) -> io::Result<Self> {
        let transport = match plan {
            Plan::Udp(addr) => {
                let local = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let socket = UdpSocket::bind(local)?;
                Transport::Udp(UdpMetricSink::from(*addr, socket).map_err(io::Error::other)?)
            }
            Plan::Unixgram(path) => Transport::Unixgram(UnixMetricSink::from(path, UnixDatagram::unbound()?)),
            Plan::Stream(connector) => {
                let timing = Timing {
                    connect: c.connect_timeout,
                    write: c.write_timeout,
                    initial_backoff: c.initial_backoff,
                    max_backoff: c.max_backoff,
                };
                Transport::Stream(StreamSink::new(
                    connector.clone(),
                    timing,
                    c.breaker,
                    Arc::clone(&abandon),
                    events.clone(),
                ))
            }
        };
        let gauge_reset = !matches!(c.dialect, super::config::Dialect::DogStatsd);
        Ok(Self { transport, events, gauge_reset, abandon, done: Arc::new(AtomicU64::new(0)) })
    }

    fn send(&self, payload: &str) -> Result<(), StatsdEvent> {
        if self.abandon.load(Ordering::Acquire) {
            return Err(StatsdEvent::Shutdown);
        }
        let r = match &self.transport {
            Transport::Udp(s) => s.emit(payload).map(drop),
            Transport::Unixgram(s) => s.emit(payload).map(drop),
            Transport::Stream(s) => return s.send(payload.as_bytes()),
        };
        r.map_err(|e| {
            tracing::debug!(error = %e, "StatsD datagram not sent");
            self.events.record(StatsdEvent::WriteError);
            StatsdEvent::SendFailed
        })
    }
}

// A panic in `emit` cannot leave shared state half-changed: counters are atomics and the stream
// sink recovers its lock from poisoning. (The rustls configuration inside is not marked.)
impl std::panic::RefUnwindSafe for CountingSink {}
impl std::panic::UnwindSafe for CountingSink {}

impl MetricSink for CountingSink {
    fn emit(&self, payload: &str) -> io::Result<usize> {
        let points = points_in(payload, self.gauge_reset);
        let result = self.send(payload);
        match result {
            Ok(()) => {
                let lines = payload.split('\n').filter(|l| !l.is_empty()).count() as u64;
                self.events.add(StatsdEvent::PointsSent, points);
                self.events.add(StatsdEvent::LinesSent, lines);
                self.events.add(StatsdEvent::PayloadsSent, 1);
                self.events.add(StatsdEvent::BytesSent, payload.len() as u64);
            }
            Err(reason) => self.events.add(reason, points),
        }
        self.done.fetch_add(1, Ordering::AcqRel);
        result.map(|()| payload.len()).map_err(|_| io::Error::other("StatsD payload not sent"))
    }
}
