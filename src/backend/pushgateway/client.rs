//! One request to the gateway, over the outbound HTTP client every HTTP backend shares
//! ([`crate::backend::outbound::http`]), and what its failures mean to the gateway.

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};

use super::config::{PushAuth, PushgatewayConfig};
use crate::backend::outbound::http::{HttpClient, HttpError, Outgoing, Target};

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

/// Most bytes of the gateway's answer read (and dropped: it can repeat the pushed metrics).
const MAX_ANSWER_BYTES: usize = 4096;

impl From<HttpError> for PushError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Io(e) => Self::Io(e),
            HttpError::Tls(e) => Self::Tls(e),
            HttpError::PinMismatch => Self::PinMismatch,
            HttpError::Http(e) => Self::Http(e),
            HttpError::Timeout(t) => Self::Timeout(t),
            HttpError::Proxy(status) => Self::Proxy { status },
        }
    }
}

/// A connector made once per exporter.
pub(crate) struct Client(HttpClient);

impl Client {
    pub(crate) fn new(config: &PushgatewayConfig) -> Result<Self, crate::ConfigError> {
        #[cfg(feature = "tls")]
        let tls = if config.https { Some(config.tls_config()?) } else { None };
        Ok(Self(HttpClient::new(
            #[cfg(feature = "tls")]
            tls,
            config.proxy.build()?,
        )))
    }

    pub(crate) async fn send(
        &self,
        c: &PushgatewayConfig,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<StatusCode, PushError> {
        let mut headers: Vec<(HeaderName, HeaderValue)> =
            vec![(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))];
        match &c.auth {
            PushAuth::None => {}
            PushAuth::Basic(v) | PushAuth::Bearer(v) => {
                // Checked at build: a credential a header cannot carry is a configuration error.
                if let Ok(mut value) = HeaderValue::from_str(v) {
                    value.set_sensitive(true);
                    headers.push((header::AUTHORIZATION, value));
                }
            }
        }
        let to = Target { https: c.https, host: &c.host, port: c.port };
        let out = Outgoing { method, path, headers: &headers, body, answer_limit: MAX_ANSWER_BYTES };
        let answer = self.0.send(to, out, c.timeout).await?;
        if answer.status.is_success() {
            Ok(answer.status)
        } else {
            Err(PushError::Status { status: answer.status })
        }
    }
}
