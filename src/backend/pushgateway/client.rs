//! One request to the gateway on a fresh connection, plain or TLS, under one timeout.
//! TLS uses rustls with the ring provider the crate installs itself, verifying the server's
//! certificate and host name against the system's roots or a given CA.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

use super::config::{PushAuth, PushgatewayConfig};

/// Why one request failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// No connection, or it broke.
    #[error("cannot reach the Pushgateway: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS handshake failed (for example an untrusted certificate).
    #[error("TLS with the Pushgateway failed: {0}")]
    Tls(String),
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
}

impl PushError {
    /// Whether trying again may help (network trouble, 5xx, 429), unlike a refusal (4xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            Self::Tls(_) => false,
            _ => true,
        }
    }
}

/// Most bytes of the gateway's answer read.
const MAX_ANSWER_BYTES: usize = 4096;

/// A connector made once per exporter.
pub(crate) struct Client {
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
}

impl Client {
    pub(crate) fn new(config: &PushgatewayConfig) -> Result<Self, crate::ConfigError> {
        #[cfg(feature = "tls")]
        let tls = if config.https { Some(tls_connector(config)?) } else { None };
        #[cfg(not(feature = "tls"))]
        let _ = config;
        Ok(Self {
            #[cfg(feature = "tls")]
            tls,
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
        let stream = tokio::net::TcpStream::connect((c.host.as_str(), c.port)).await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, format!("{host}:{}", c.port))
            .header(hyper::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
            .header(hyper::header::USER_AGENT, concat!("codomyrmex-metrics/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(body))
            .map_err(|e| PushError::Tls(e.to_string()))?;
        match &c.auth {
            PushAuth::None => {}
            PushAuth::Basic(v) | PushAuth::Bearer(v) => {
                if let Ok(mut value) = hyper::header::HeaderValue::from_str(v) {
                    value.set_sensitive(true);
                    req.headers_mut().insert(hyper::header::AUTHORIZATION, value);
                }
            }
        }
        #[cfg(feature = "tls")]
        if let Some(connector) = &self.tls {
            let name =
                rustls_pki_types::ServerName::try_from(c.host.clone()).map_err(|e| PushError::Tls(e.to_string()))?;
            let tls = connector.connect(name, stream).await.map_err(|e| PushError::Tls(e.to_string()))?;
            return exchange(TokioIo::new(tls), req).await;
        }
        exchange(TokioIo::new(stream), req).await
    }
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
    if status.is_success() {
        Ok(status)
    } else {
        Err(PushError::Status { status })
    }
}

#[cfg(feature = "tls")]
fn tls_connector(c: &PushgatewayConfig) -> Result<tokio_rustls::TlsConnector, crate::ConfigError> {
    let config = crate::backend::tls_client::client_config(
        "pushgateway tls",
        c.ca_file.as_deref(),
        None,
        crate::backend::SecretFilePolicy::Refuse,
    )?;
    Ok(tokio_rustls::TlsConnector::from(config))
}
