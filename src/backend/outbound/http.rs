//! One HTTP/1.1 request to a backend (the Pushgateway, an OTLP receiver) on a fresh
//! connection, direct or through a forward proxy, plain or TLS, under one timeout. TLS uses
//! rustls with the ring provider the crate installs itself, verifying the server's certificate
//! and host name against the system's roots or a given CA, and its public key against the pins
//! when there are any; a client certificate is presented when configured. The answer's body is
//! read up to a bound, so a backend (or something posing as one) cannot make the client buffer
//! more.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

use super::proxy::Proxy;

/// Why one request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// No connection, or it broke.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The TLS handshake failed (for example an untrusted certificate).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The server's certificate passed verification but its public key matches no pin.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    #[error("the server's public key matches no configured pin")]
    PinMismatch,
    /// HTTP failed.
    #[error("HTTP failed: {0}")]
    Http(#[from] hyper::Error),
    /// The request took longer than the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The forward proxy refused the request or the tunnel (407: credentials missing or
    /// wrong); its answer is not kept.
    #[error("the proxy answered {0}")]
    Proxy(StatusCode),
}

/// Where a request goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) https: bool,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
}

/// What came back: any status (the caller judges it), `Retry-After` when it held a number of
/// seconds, and at most the bound's bytes of the body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    // Read by OTLP; the Pushgateway client judges the status alone.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) retry_after: Option<Duration>,
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) body: Bytes,
}

/// A request: method, path, headers (values the caller marked sensitive stay so) and body.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) headers: &'a [(HeaderName, HeaderValue)],
    pub(crate) body: Bytes,
    /// Most bytes of the answer's body read.
    pub(crate) answer_limit: usize,
}

/// A connector made once per exporter.
pub(crate) struct HttpClient {
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
    proxy: Option<Proxy>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("proxy", &self.proxy.is_some()).finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client; `tls` is the configuration for HTTPS targets (`None`: plain HTTP only).
    pub(crate) fn new(
        #[cfg(feature = "tls")] tls: Option<std::sync::Arc<rustls::ClientConfig>>,
        proxy: Option<Proxy>,
    ) -> Self {
        Self {
            #[cfg(feature = "tls")]
            tls: tls.map(tokio_rustls::TlsConnector::from),
            proxy,
        }
    }

    /// Sends `out` to `to` and reads the answer, all within `timeout`.
    pub(crate) async fn send(&self, to: Target<'_>, out: Outgoing<'_>, timeout: Duration) -> Result<Answer, HttpError> {
        tokio::time::timeout(timeout, self.send_inner(to, out)).await.unwrap_or(Err(HttpError::Timeout(timeout)))
    }

    async fn send_inner(&self, to: Target<'_>, out: Outgoing<'_>) -> Result<Answer, HttpError> {
        let host = if to.host.contains(':') { format!("[{}]", to.host) } else { to.host.to_owned() };
        let authority = format!("{host}:{}", to.port);
        let route = self.proxy.as_ref().and_then(|p| p.route(to.https, to.host, to.port));
        let stream = match &route {
            Some(r) => tokio::net::TcpStream::connect((r.host.as_str(), r.port)).await?,
            None => tokio::net::TcpStream::connect((to.host, to.port)).await?,
        };
        // Plain HTTP through a proxy: the request line carries the whole URL (absolute form).
        let target = match &route {
            Some(_) if !to.https => format!("http://{authority}{}", out.path),
            _ => out.path.to_owned(),
        };
        let mut req = Request::builder()
            .method(out.method)
            .uri(target)
            .header(header::HOST, &authority)
            .header(header::USER_AGENT, concat!("codomyrmex-metrics/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(out.body))
            .map_err(|e| HttpError::Tls(e.to_string()))?;
        for (name, value) in out.headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        let limit = out.answer_limit;
        #[cfg(feature = "tls")]
        if to.https {
            let Some(connector) = &self.tls else {
                return Err(HttpError::Tls("this client was built without TLS settings".into()));
            };
            let name = rustls_pki_types::ServerName::try_from(to.host.to_owned())
                .map_err(|e| HttpError::Tls(e.to_string()))?;
            let tls_error = |e: std::io::Error| {
                if crate::backend::outbound::pin::is_pin_mismatch(&e) {
                    HttpError::PinMismatch
                } else {
                    HttpError::Tls(e.to_string())
                }
            };
            return match &route {
                Some(r) => {
                    let tunnel = connect_tunnel(stream, r, &authority).await?;
                    let tls = connector.connect(name, TokioIo::new(tunnel)).await.map_err(tls_error)?;
                    exchange(TokioIo::new(tls), req, limit).await
                }
                None => {
                    let tls = connector.connect(name, stream).await.map_err(tls_error)?;
                    exchange(TokioIo::new(tls), req, limit).await
                }
            };
        }
        if to.https {
            return Err(HttpError::Tls("HTTPS needs the `tls` feature".into()));
        }
        if let Some(auth) = route.and_then(|r| r.auth) {
            req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth);
        }
        exchange(TokioIo::new(stream), req, limit).await
    }
}

/// Most bytes of a proxy's refusal read.
#[cfg(any(feature = "tls", feature = "otlp-grpc"))]
const PROXY_ANSWER_LIMIT: usize = 4096;

/// `CONNECT authority` through the proxy; the tunnel once it answers 2xx.
#[cfg(any(feature = "tls", feature = "otlp-grpc"))]
pub(crate) async fn connect_tunnel(
    stream: tokio::net::TcpStream,
    route: &super::proxy::Route,
    authority: &str,
) -> Result<hyper::upgrade::Upgraded, HttpError> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn.with_upgrades());
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(authority)
        .header(header::HOST, authority)
        .body(Full::new(Bytes::new()))
        .map_err(|e| HttpError::Tls(e.to_string()))?;
    if let Some(auth) = &route.auth {
        req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth.clone());
    }
    let response = sender.send_request(req).await?;
    let status = response.status();
    if !status.is_success() {
        let _ = http_body_util::Limited::new(response.into_body(), PROXY_ANSWER_LIMIT).collect().await;
        driver.abort();
        return Err(HttpError::Proxy(status));
    }
    Ok(hyper::upgrade::on(response).await?)
}

async fn exchange<I>(io: I, req: Request<Full<Bytes>>, limit: usize) -> Result<Answer, HttpError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    let driver = tokio::spawn(conn);
    let response = sender.send_request(req).await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // A body past the bound is cut, not an error: the status says what happened.
    let body = match http_body_util::Limited::new(response.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    driver.abort();
    if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
        return Err(HttpError::Proxy(status));
    }
    Ok(Answer { status, retry_after, body })
}
