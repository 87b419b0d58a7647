//! OTLP/gRPC (feature `otlp-grpc`): `MetricsService/Export` over tonic, on one HTTP/2
//! connection kept between exports. The connection is the crate's own, as for every outbound
//! client: TCP, through a forward proxy's `CONNECT` tunnel when one is configured, then TLS
//! with the crate's rustls settings (system roots or a CA file, a client certificate, pins;
//! ALPN `h2`), or plain HTTP/2 for `otlp+grpc://`. RetryInfo in a failure's details is read
//! for the wait before the next attempt.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_types::StatusExt;

use super::config::{OtlpCompression, OtlpConfig};
use super::transport::{Accepted, OtlpError};
use crate::backend::outbound::proxy::Proxy;

/// A byte stream of any of the kinds the connector makes.
trait Stream: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Stream for T {}
type Io = TokioIo<Pin<Box<dyn Stream>>>;

/// Makes the connections tonic uses: the crate's TCP, proxy and TLS.
#[derive(Clone)]
struct Connector {
    https: bool,
    host: Arc<str>,
    port: u16,
    proxy: Option<Arc<Proxy>>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = Io;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Io, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect().await })
    }
}

impl Connector {
    async fn connect(self) -> std::io::Result<Io> {
        let other = |e: crate::backend::outbound::http::HttpError| std::io::Error::other(e.to_string());
        let authority = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let route = self.proxy.as_ref().and_then(|p| p.route(self.https, &self.host, self.port));
        let stream: Pin<Box<dyn Stream>> = match &route {
            // gRPC goes through a tunnel whatever its scheme: HTTP/2 cannot be proxied in
            // absolute form.
            Some(r) => {
                let tcp = tokio::net::TcpStream::connect((r.host.as_str(), r.port)).await?;
                let tunnel = crate::backend::outbound::http::connect_tunnel(tcp, r, &authority).await.map_err(other)?;
                Box::pin(TokioIo::new(tunnel))
            }
            None => Box::pin(tokio::net::TcpStream::connect((&*self.host, self.port)).await?),
        };
        if !self.https {
            return Ok(TokioIo::new(stream));
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            let name = rustls_pki_types::ServerName::try_from(self.host.to_string())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
            let tls: Pin<Box<dyn Stream>> = Box::pin(tls.connect(name, stream).await?);
            return Ok(TokioIo::new(tls));
        }
        Err(std::io::Error::other("HTTPS needs the `tls` feature"))
    }
}

/// The gRPC side of an exporter: its channel, made at the first export (inside the
/// exporter's runtime), and the metadata every call carries.
pub(crate) struct GrpcClient {
    connector: Connector,
    endpoint: Endpoint,
    channel: Option<Channel>,
    metadata: MetadataMap,
    gzip: bool,
    timeout: Duration,
}

impl std::fmt::Debug for GrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcClient").field("gzip", &self.gzip).finish_non_exhaustive()
    }
}

impl GrpcClient {
    pub(crate) fn new(c: &OtlpConfig) -> Result<Self, crate::ConfigError> {
        #[cfg(feature = "tls")]
        let tls = if c.https {
            let mut config = (*c.tls_config()?).clone();
            config.alpn_protocols = vec![b"h2".to_vec()];
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        } else {
            None
        };
        let connector = Connector {
            https: c.https,
            host: c.host.as_str().into(),
            port: c.port,
            proxy: c.proxy.build()?.map(Arc::new),
            #[cfg(feature = "tls")]
            tls,
        };
        // tonic sees a plain URI: the connector above makes the real connection.
        let uri = format!(
            "http://{}:{}",
            if c.host.contains(':') { format!("[{}]", c.host) } else { c.host.clone() },
            c.port
        );
        let endpoint = Endpoint::from_shared(uri)
            .map_err(|e| super::config::invalid("otlp endpoint", e.to_string()))?
            .timeout(c.timeout)
            .connect_timeout(c.timeout);
        let mut metadata = MetadataMap::new();
        for (name, value) in &c.headers {
            // Both checked at build, as HTTP header names and values.
            if let (Ok(key), Ok(mut value)) =
                (MetadataKey::from_bytes(name.as_bytes()), MetadataValue::try_from(value.as_str()))
            {
                value.set_sensitive(true);
                metadata.insert(key, value);
            }
        }
        Ok(Self {
            connector,
            endpoint,
            channel: None,
            metadata,
            gzip: c.compression == OtlpCompression::Gzip,
            timeout: c.timeout,
        })
    }

    /// One `Export` call (inside the exporter's runtime).
    pub(crate) async fn send(&mut self, request: &ExportMetricsServiceRequest) -> Result<Accepted, OtlpError> {
        let channel = match &self.channel {
            Some(c) => c.clone(),
            None => {
                let c = self.endpoint.connect_with_connector_lazy(self.connector.clone());
                self.channel = Some(c.clone());
                c
            }
        };
        let mut client = MetricsServiceClient::new(channel).max_decoding_message_size(64 * 1024);
        if self.gzip {
            client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        let mut call = tonic::Request::new(request.clone());
        *call.metadata_mut() = self.metadata.clone();
        call.set_timeout(self.timeout);
        match tokio::time::timeout(self.timeout, client.export(call)).await {
            Err(_) => Err(OtlpError::Transport(format!("no answer within {:?}", self.timeout))),
            Ok(Ok(response)) => {
                let rejected = response
                    .into_inner()
                    .partial_success
                    .map_or(0, |p| u64::try_from(p.rejected_data_points).unwrap_or(0));
                Ok(Accepted { rejected })
            }
            Ok(Err(status)) => Err(from_status(&status)),
        }
    }
}

/// A failed call as an [`OtlpError`]: its code and the wait RetryInfo asks for. The status'
/// message is not kept (it can quote attribute values).
fn from_status(status: &tonic::Status) -> OtlpError {
    let retry_after = status.get_details_retry_info().and_then(|r| r.retry_delay).filter(|d| *d > Duration::ZERO);
    if status.code() == tonic::Code::Unknown && pin_mismatch(status) {
        return OtlpError::PinMismatch;
    }
    OtlpError::Grpc { code: status.code() as i32, retry_after }
}

/// Whether a transport failure was the pin check (the connector's TLS error, as tonic carries it).
fn pin_mismatch(status: &tonic::Status) -> bool {
    #[cfg(feature = "tls")]
    {
        let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if crate::backend::outbound::pin::is_pin_mismatch(io) {
                    return true;
                }
            }
            source = e.source();
        }
    }
    let _ = status;
    false
}
