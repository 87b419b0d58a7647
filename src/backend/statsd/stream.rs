//! The crate's own newline-framed stream sink for TCP, TLS (rustls) and Unix stream sockets.
//!
//! A payload is held until it is written: while the server is away the sink reconnects with
//! exponential backoff and jitter, and the queue in front of it (cadence's queuing sink)
//! absorbs the outage up to its bound. Before each write it checks that the server has not
//! closed the connection, so a restarted server does not swallow a payload written to a dead
//! socket. After a failed write it resends from the first line the old connection may not have
//! taken whole (a partial last line is dropped by the server when the connection closes).
//! After `failures` failed connects in a row the circuit breaker opens: payloads are dropped
//! at once (and counted) for the cool-down, then one connect is tried as a probe.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::events::{Counters, StatsdEvent};
use crate::backend::outbound::breaker::{Admit, Breaker, Transition};
use crate::backend::outbound::CircuitBreaker;
use crate::backend::retry::{jitter, next_backoff};

/// How to open a connection.
#[derive(Debug, Clone)]
pub(crate) enum Connector {
    Tcp(String),
    #[cfg(feature = "tls")]
    Tls {
        addr: String,
        name: rustls_pki_types::ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    },
    Unix(PathBuf),
}

enum Conn {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    Unix(UnixStream),
}

impl Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.write(buf).and_then(|n| s.flush().map(|()| n)),
            Self::Unix(s) => s.write(buf),
        }
    }

    /// Whether the server has closed the connection (a StatsD server never sends data, so
    /// anything readable that is not TLS housekeeping means the end).
    fn peer_closed(&mut self) -> bool {
        let mut buf = [0u8; 512];
        let nonblocking = |on: bool, c: &Self| match c {
            Self::Tcp(s) => s.set_nonblocking(on),
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.sock.set_nonblocking(on),
            Self::Unix(s) => s.set_nonblocking(on),
        };
        if nonblocking(true, self).is_err() {
            return true;
        }
        let closed = loop {
            let r = match self {
                Self::Tcp(s) => s.read(&mut buf),
                #[cfg(feature = "tls")]
                Self::Tls(s) => s.read(&mut buf),
                Self::Unix(s) => s.read(&mut buf),
            };
            match r {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break true,
            }
        };
        closed || nonblocking(false, self).is_err()
    }
}

/// Timeouts and backoff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) connect: Duration,
    pub(crate) write: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

struct State {
    conn: Option<Conn>,
    backoff: Duration,
    next_attempt: Instant,
    ever_connected: bool,
}

/// The stream sink. `stop` ends the waiting: the payload in hand is then given up.
pub(crate) struct StreamSink {
    connector: Connector,
    timing: Timing,
    state: Mutex<State>,
    stop: Arc<AtomicBool>,
    events: Counters,
    breaker: Breaker,
}

impl std::fmt::Debug for StreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSink").field("connector", &self.connector).finish_non_exhaustive()
    }
}

fn connect_tcp(addr: &str, t: &Timing) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the address resolves to nothing");
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, t.connect) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_write_timeout(Some(t.write))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl StreamSink {
    pub(crate) fn new(
        connector: Connector,
        timing: Timing,
        breaker: CircuitBreaker,
        stop: Arc<AtomicBool>,
        events: Counters,
    ) -> Self {
        let state =
            State { conn: None, backoff: timing.initial_backoff, next_attempt: Instant::now(), ever_connected: false };
        Self { connector, timing, state: Mutex::new(state), stop, events, breaker: Breaker::new(breaker) }
    }

    fn count(&self, transition: Option<Transition>) {
        match transition {
            Some(Transition::Opened) => {
                self.events.record(StatsdEvent::CircuitOpened);
                tracing::warn!(
                    "StatsD circuit breaker opened after repeated failed connects; payloads are dropped and counted"
                );
            }
            Some(Transition::Closed) => {
                self.events.record(StatsdEvent::CircuitClosed);
                tracing::info!("StatsD circuit breaker closed: the server accepts connections again");
            }
            None => {}
        }
    }

    fn connect(&self) -> Result<Conn, StatsdEvent> {
        match &self.connector {
            Connector::Tcp(addr) => {
                connect_tcp(addr, &self.timing).map(Conn::Tcp).map_err(|_| StatsdEvent::ConnectError)
            }
            #[cfg(feature = "tls")]
            Connector::Tls { addr, name, config } => {
                let mut sock = connect_tcp(addr, &self.timing).map_err(|_| StatsdEvent::ConnectError)?;
                let mut conn = rustls::ClientConnection::new(Arc::clone(config), name.clone())
                    .map_err(|_| StatsdEvent::TlsError)?;
                let handshake = (|| {
                    sock.set_read_timeout(Some(self.timing.connect))?;
                    while conn.is_handshaking() {
                        conn.complete_io(&mut sock)?;
                    }
                    sock.set_read_timeout(None)
                })();
                if let Err(e) = handshake {
                    if crate::backend::outbound::pin::is_pin_mismatch(&e) {
                        tracing::warn!("StatsD server's public key matches no configured pin");
                        return Err(StatsdEvent::PinMismatch);
                    }
                    tracing::warn!(error = %e, "StatsD TLS handshake failed");
                    return Err(StatsdEvent::TlsError);
                }
                Ok(Conn::Tls(Box::new(rustls::StreamOwned::new(conn, sock))))
            }
            Connector::Unix(path) => {
                let s = UnixStream::connect(path).map_err(|_| StatsdEvent::ConnectError)?;
                s.set_write_timeout(Some(self.timing.write)).map_err(|_| StatsdEvent::ConnectError)?;
                Ok(Conn::Unix(s))
            }
        }
    }

    /// Waits until `deadline` unless stopped; false when stopped.
    fn wait_until(&self, deadline: Instant) -> bool {
        loop {
            if self.stop.load(Ordering::Acquire) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
        }
    }

    /// Writes `payload` whole, reconnecting as often as it takes while the circuit is closed.
    /// An error (the reason its points are lost) when stopped, or at once while the circuit
    /// is open.
    pub(crate) fn send(&self, payload: &[u8]) -> Result<(), StatsdEvent> {
        let mut st = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut from = 0;
        loop {
            if st.conn.as_mut().is_some_and(Conn::peer_closed) {
                st.conn = None;
            }
            if st.conn.is_none() {
                let admit = self.breaker.admit(Instant::now());
                if admit == Admit::Refuse {
                    return Err(StatsdEvent::CircuitOpen);
                }
                if admit == Admit::Go && !self.wait_until(st.next_attempt) {
                    return Err(StatsdEvent::Shutdown);
                }
                if self.stop.load(Ordering::Acquire) {
                    return Err(StatsdEvent::Shutdown);
                }
                match self.connect() {
                    Ok(c) => {
                        if st.ever_connected {
                            self.events.record(StatsdEvent::Reconnect);
                            tracing::info!("StatsD connection re-established");
                        }
                        self.count(self.breaker.succeeded());
                        st.ever_connected = true;
                        st.backoff = self.timing.initial_backoff;
                        st.conn = Some(c);
                    }
                    Err(event) => {
                        self.events.record(event);
                        self.count(self.breaker.failed(Instant::now()));
                        st.next_attempt = Instant::now() + jitter(st.backoff);
                        st.backoff = next_backoff(st.backoff, self.timing.max_backoff);
                        continue;
                    }
                }
            }
            let conn = st.conn.as_mut().expect("connected above");
            let mut at = from;
            let result = loop {
                if at == payload.len() {
                    break Ok(());
                }
                match conn.write(&payload[at..]) {
                    Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => at += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::debug!(error = %e, "StatsD write failed; reconnecting");
                    self.events.record(StatsdEvent::WriteError);
                    st.conn = None;
                    st.next_attempt = Instant::now();
                    // Lines the old connection took whole count as sent; resend from the first
                    // line it may not have taken whole.
                    from = payload[..at].iter().rposition(|b| *b == b'\n').map_or(from, |i| i + 1);
                }
            }
        }
    }
}
