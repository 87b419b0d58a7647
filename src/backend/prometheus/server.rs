//! The built-in server: accepts connections (at most `max_connections`; past it, a quick 503
//! and close), runs TLS handshakes under the header timeout, serves HTTP/1.1 with hyper with
//! header-read and request timeouts, and shuts down gracefully. It runs on the caller's tokio
//! runtime if there is one, else on its own background thread.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::sync::{watch, Semaphore};

use super::config::{Listen, PrometheusConfig, Settings};
use super::events::ScrapeEvent;
use super::handler::ScrapeHandler;
use super::per_client::PerClient;
use super::write_deadline::WriteDeadline;
use crate::error::ConfigError;
use crate::registry::Registry;

/// How long shutdown waits for connections to finish.
const DRAIN: Duration = Duration::from_secs(5);

#[cfg(feature = "tls")]
type Acceptor = Option<tokio_rustls::TlsAcceptor>;
#[cfg(not(feature = "tls"))]
type Acceptor = Option<Infallible>;

pub(crate) struct Server {
    stop: watch::Sender<bool>,
    done: std::sync::mpsc::Receiver<()>,
    runtime: Option<tokio::runtime::Runtime>,
    local_addr: SocketAddr,
}

fn start_error(e: impl std::error::Error + Send + Sync + 'static) -> ConfigError {
    ConfigError::Exporter { name: "prometheus".into(), source: Box::new(e) }
}

impl Server {
    pub(crate) fn start(config: PrometheusConfig, registry: Registry) -> Result<Self, ConfigError> {
        let settings = config.settings;
        let listener = match config.listen {
            Listen::Addr(addr) => std::net::TcpListener::bind(addr)
                .map_err(|e| start_error(std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))))?,
            Listen::Listener(l) => l,
        };
        listener.set_nonblocking(true).map_err(start_error)?;
        let local_addr = listener.local_addr().map_err(start_error)?;
        #[cfg(feature = "tls")]
        let acceptor: Acceptor = match &settings.tls {
            Some(t) => Some(super::tls::acceptor(t, settings.secret_files)?),
            None => None,
        };
        #[cfg(not(feature = "tls"))]
        let acceptor: Acceptor = None;
        let (runtime, handle) = match tokio::runtime::Handle::try_current() {
            Ok(h) => (None, h),
            Err(_) => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .max_blocking_threads(4)
                    .thread_name("codomyrmex-metrics-http")
                    .enable_all()
                    .build()
                    .map_err(start_error)?;
                let h = rt.handle().clone();
                (Some(rt), h)
            }
        };
        let listener = {
            let _enter = handle.enter();
            tokio::net::TcpListener::from_std(listener).map_err(start_error)?
        };
        let (stop, stopped) = watch::channel(false);
        let (done_tx, done) = std::sync::mpsc::channel();
        let handler = ScrapeHandler::from_settings(registry, Arc::clone(&settings));
        handle.spawn(async move {
            accept_loop(listener, handler, settings, acceptor, stopped).await;
            let _ = done_tx.send(());
        });
        tracing::info!(address = %local_addr, "metrics endpoint listening");
        Ok(Self { stop, done, runtime, local_addr })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets open requests finish (up to 5 s), then returns. Called from async
    /// code on a current-thread runtime, the server task cannot run while we wait, so it only
    /// signals: the server stops at the caller's next `.await`.
    pub(crate) fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let on_single_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        if self.runtime.is_some() || !on_single_thread {
            let _ = self.done.recv_timeout(DRAIN + Duration::from_secs(1));
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Server {
    /// Dropped without `shutdown` (the last `Metrics` handle went away): stop without
    /// blocking, which is safe in async code too.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    handler: ScrapeHandler,
    settings: Arc<Settings>,
    acceptor: Acceptor,
    mut stopped: watch::Receiver<bool>,
) {
    let max = settings.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let per_client = PerClient::new(settings.max_connections_per_client);
    // Refusals being written at once; past it, a connection over the limit is just closed.
    let refusals = Arc::new(Semaphore::new(max));
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // The client's share first: past it, the connection is closed at once (no 503 is
        // written to a client that already holds its share of the slots).
        let Some(share) = per_client.admit(peer.ip()) else {
            handler.count(ScrapeEvent::ConnectionLimit);
            drop(stream);
            continue;
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            handler.count(ScrapeEvent::ConnectionLimit);
            if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                let tls = acceptor.is_some();
                tokio::spawn(async move {
                    refuse(stream, tls).await;
                    drop(permit);
                });
            }
            continue;
        };
        #[cfg_attr(not(feature = "tls"), allow(clippy::clone_on_copy))]
        let conn = Conn {
            peer,
            handler: handler.clone(),
            settings: Arc::clone(&settings),
            acceptor: acceptor.clone(),
            stopped: stopped.clone(),
        };
        tokio::spawn(async move {
            serve(stream, conn).await;
            drop((slot, share));
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, slots.acquire_many(u32::try_from(max).unwrap_or(u32::MAX))).await;
}

/// Over the connection limit: a plain-HTTP client gets a 503 at once; a TLS one is closed.
async fn refuse(mut stream: tokio::net::TcpStream, tls: bool) {
    if !tls {
        let reply = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n";
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(reply)).await;
    }
    let _ = stream.shutdown().await;
}

/// What one connection's task needs besides its socket.
struct Conn {
    peer: SocketAddr,
    handler: ScrapeHandler,
    settings: Arc<Settings>,
    acceptor: Acceptor,
    stopped: watch::Receiver<bool>,
}

async fn serve(stream: tokio::net::TcpStream, conn: Conn) {
    // Nothing is allocated for a connection until its first byte arrives (within the header
    // timeout): idle connections cost a task, not hyper's or rustls' buffers.
    // `peek` waits for a real byte (`readable` may wake spuriously); 0 bytes is a closed socket.
    let mut first = [0u8; 1];
    if !matches!(tokio::time::timeout(conn.settings.header_timeout, stream.peek(&mut first)).await, Ok(Ok(1..))) {
        return;
    }
    // Boxed: the TLS and HTTP state is large, and an idle task should not carry it.
    Box::pin(serve_connection(stream, conn)).await;
}

async fn serve_connection(stream: tokio::net::TcpStream, conn: Conn) {
    let Conn { peer, handler, settings, acceptor, stopped } = conn;
    #[cfg(feature = "tls")]
    if let Some(acceptor) = acceptor {
        let tls = match tokio::time::timeout(settings.header_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => tls,
            _ => {
                handler.count(ScrapeEvent::TlsHandshake);
                return;
            }
        };
        if let Some(t) = &settings.tls {
            if !super::tls::client_name_allowed(tls.get_ref().1, &t.allowed_client_names) {
                handler.count(ScrapeEvent::ClientName);
                return;
            }
        }
        let io = WriteDeadline::new(TokioIo::new(tls), settings.request_timeout);
        return serve_http(io, peer, handler, settings, stopped).await;
    }
    #[cfg(not(feature = "tls"))]
    let _ = acceptor;
    let io = WriteDeadline::new(TokioIo::new(stream), settings.request_timeout);
    serve_http(io, peer, handler, settings, stopped).await;
}

async fn serve_http<I>(
    io: I,
    peer: SocketAddr,
    handler: ScrapeHandler,
    settings: Arc<Settings>,
    mut stopped: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let timeout = settings.request_timeout;
    let service = service_fn(move |req| {
        let handler = handler.clone();
        async move {
            let answer = match tokio::time::timeout(timeout, handler.handle(req, Some(peer.ip()))).await {
                Ok(r) => r,
                Err(_) => handler.timeout_response(),
            };
            Ok::<_, Infallible>(answer)
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_buf_size(settings.max_header_bytes)
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}
