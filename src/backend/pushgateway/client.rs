//! One request to the gateway on a fresh connection (direct, or through a forward proxy),
//! plain or TLS, under one timeout. TLS uses rustls with the ring provider the crate installs
//! itself, verifying the server's certificate and host name against the system's roots or a
//! given CA, and its public key against the pins when there are any; a client certificate is
//! presented when configured.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

use super::config::{PushAuth, PushgatewayConfig};
use super::proxy::Proxy;

/// Why one request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// No connection, or it broke.
    #[error("cannot reach the Pushgateway: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS handshake failed (for example an untrusted certificate).
    #[error("TLS with the Pushgateway failed: {0}")]
    Tls(String),
    /// The gateway's certificate passed verification but its public key matches no pin.
    #[error("the Pushgateway's public key matches no configured pin")]
    PinMismatch,
    /// HTTP failed.
    #[error("HTTP to the Pushgateway failed: {0}")]
    Http(#[from] hyper::Error),
    /// The request took longer than the timeout.
    #[error("the Pushgateway did not answer within {0:?}")]
    Timeout(Duration),
    /// The gateway answered with an error status. Its answer is not kept: it can repeat the
    /// pushed metrics' names and label values, and errors end up in logs.
    #[error("the Pushgateway answered {status}")]
    Status {
        /// The status.
        status: StatusCode,
    },
    /// The forward proxy refused the request or the tunnel (407: credentials missing or
    /// wrong); its answer is not kept either.
    #[error("the proxy answered {status}")]
    Proxy {
        /// The proxy's status.
        status: StatusCode,
    },
    /// The circuit breaker is open: the client is not trying until its cool-down ends.
    #[error("not sent: the circuit breaker is open after repeated failures")]
    CircuitOpen,
}

impl PushError {
    /// Whether trying again may help (network trouble, 5xx, 429), unlike a refusal (4xx) or a
    /// certificate problem.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status } | Self::Proxy { status } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Self::Tls(_) | Self::PinMismatch | Self::CircuitOpen => false,
            Self::Io(_) | Self::Http(_) | Self::Timeout(_) => true,
        }
    }

    /// Whether the failure says the gateway (or the way to it) is down, which the circuit
    /// breaker counts; a 4xx says the request is wrong, not that the gateway is away.
    pub(crate) fn is_outage(&self) -> bool {
        match self {
            Self::Status { status } => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            Self::CircuitOpen => false,
            _ => true,
        }
    }
}

/// Most bytes of the gateway's (or the proxy's) answer read.
const MAX_ANSWER_BYTES: usize = 4096;

/// A connector made once per exporter.
pub(crate) struct Client {
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
    proxy: Option<Proxy>,
}

impl Client {
    pub(crate) fn new(config: &PushgatewayConfig) -> Result<Self, crate::ConfigError> {
        #[cfg(feature = "tls")]
        let tls = if config.https { Some(tls_connector(config)?) } else { None };
        Ok(Self {
            #[cfg(feature = "tls")]
            tls,
            proxy: config.proxy.build()?,
        })
    }

    pub(crate) async fn send(
        &self,
        config: &PushgatewayConfig,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<StatusCode, PushError> {
        let timeout = config.timeout;
        tokio::time::timeout(timeout, self.send_inner(config, method, path, body))
            .await
            .unwrap_or(Err(PushError::Timeout(timeout)))
    }

    async fn send_inner(
        &self,
        c: &PushgatewayConfig,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<StatusCode, PushError> {
        let host = if c.host.contains(':') { format!("[{}]", c.host) } else { c.host.clone() };
        let authority = format!("{host}:{}", c.port);
        let route = self.proxy.as_ref().and_then(|p| p.route(c.https, &c.host, c.port));
        let stream = match &route {
            Some(r) => tokio::net::TcpStream::connect((r.host.as_str(), r.port)).await?,
            None => tokio::net::TcpStream::connect((c.host.as_str(), c.port)).await?,
        };
        // Plain HTTP through a proxy: the request line carries the whole URL (absolute form).
        let target = match &route {
            Some(_) if !c.https => format!("http://{authority}{path}"),
            _ => path.to_owned(),
        };
        let mut req = Request::builder()
            .method(method)
            .uri(target)
            .header(header::HOST, &authority)
            .header(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
            .header(header::USER_AGENT, concat!("codomyrmex-metrics/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(body))
            .map_err(|e| PushError::Tls(e.to_string()))?;
        match &c.auth {
            PushAuth::None => {}
            PushAuth::Basic(v) | PushAuth::Bearer(v) => {
                // Checked at build: a credential a header cannot carry is a configuration error.
                if let Ok(mut value) = HeaderValue::from_str(v) {
                    value.set_sensitive(true);
                    req.headers_mut().insert(header::AUTHORIZATION, value);
                }
            }
        }
        #[cfg(feature = "tls")]
        if let Some(connector) = &self.tls {
            let name =
                rustls_pki_types::ServerName::try_from(c.host.clone()).map_err(|e| PushError::Tls(e.to_string()))?;
            let tls_error = |e: std::io::Error| {
                if crate::backend::outbound::pin::is_pin_mismatch(&e) {
                    PushError::PinMismatch
                } else {
                    PushError::Tls(e.to_string())
                }
            };
            return match &route {
                Some(r) => {
                    let tunnel = connect_tunnel(stream, r, &authority).await?;
                    let tls = connector.connect(name, TokioIo::new(tunnel)).await.map_err(tls_error)?;
                    exchange(TokioIo::new(tls), req).await
                }
                None => {
                    let tls = connector.connect(name, stream).await.map_err(tls_error)?;
                    exchange(TokioIo::new(tls), req).await
                }
            };
        }
        if let Some(auth) = route.and_then(|r| r.auth) {
            req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth);
        }
        exchange(TokioIo::new(stream), req).await
    }
}

/// `CONNECT authority` through the proxy; the tunnel once it answers 2xx.
#[cfg(feature = "tls")]
async fn connect_tunnel(
    stream: tokio::net::TcpStream,
    route: &super::proxy::Route,
    authority: &str,
) -> Result<hyper::upgrade::Upgraded, PushError> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn.with_upgrades());
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(authority)
        .header(header::HOST, authority)
        .body(Full::new(Bytes::new()))
        .map_err(|e| PushError::Tls(e.to_string()))?;
    if let Some(auth) = &route.auth {
        req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth.clone());
    }
    let response = sender.send_request(req).await?;
    let status = response.status();
    if !status.is_success() {
        let _ = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect().await;
        driver.abort();
        return Err(PushError::Proxy { status });
    }
    Ok(hyper::upgrade::on(response).await?)
}

async fn exchange<I>(io: I, req: Request<Full<Bytes>>) -> Result<StatusCode, PushError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    let driver = tokio::spawn(conn);
    let response = sender.send_request(req).await?;
    let status = response.status();
    // Read (and drop) at most a few KiB of the answer, so the connection can end cleanly; a
    // gateway, or something posing as one, cannot make the client buffer more.
    let _ = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect().await;
    driver.abort();
    if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
        return Err(PushError::Proxy { status });
    }
    if status.is_success() {
        Ok(status)
    } else {
        Err(PushError::Status { status })
    }
}

#[cfg(feature = "tls")]
fn tls_connector(c: &PushgatewayConfig) -> Result<tokio_rustls::TlsConnector, crate::ConfigError> {
    Ok(tokio_rustls::TlsConnector::from(c.tls_config()?))
}
