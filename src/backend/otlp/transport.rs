//! One export request over OTLP/HTTP (protobuf, optionally gzip), and what its answer means:
//! success (with a partial success read), a failure worth retrying (429, 502, 503, 504, or
//! the network), or a refusal.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use prost::Message;

use super::config::{OtlpCompression, OtlpConfig};
use crate::backend::outbound::http::{HttpClient, HttpError, Outgoing, Target};

/// Most bytes of an answer read: a partial success is small; anything longer is cut.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why one request failed. No variant carries the receiver's words: they can repeat the
/// exported attribute values, and errors end up in logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// No answer: the network, TLS, a proxy, or the timeout.
    #[error("no answer from the OTLP receiver: {0}")]
    Transport(String),
    /// The receiver's public key matches no pin.
    #[error("the OTLP receiver's public key matches no configured pin")]
    PinMismatch,
    /// The receiver answered with an error status.
    #[error("the OTLP receiver answered {status}")]
    Status {
        /// The status.
        status: StatusCode,
        /// How long the receiver asked the client to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The receiver answered a gRPC call with an error status (its code, as gRPC numbers them).
    #[error("the OTLP receiver answered gRPC status {}", grpc_code_name(*code))]
    Grpc {
        /// The status code.
        code: i32,
        /// How long the receiver asked the client to wait (`RetryInfo`).
        retry_after: Option<Duration>,
    },
    /// The circuit breaker is open: the client is not trying until its cool-down ends.
    #[error("not sent: the circuit breaker is open after repeated failures")]
    CircuitOpen,
}

impl OtlpError {
    /// Whether trying again may help, as the OTLP specification lists: 429, 502, 503, 504,
    /// and failures to get any answer (certificate problems excepted).
    /// Over gRPC: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS,
    /// and RESOURCE_EXHAUSTED when the receiver says when to come back.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status.as_u16(), 429 | 502 | 503 | 504),
            Self::Grpc { code, retry_after } => {
                matches!(code, 1 | 4 | 10 | 11 | 14 | 15) || (*code == 8 && retry_after.is_some())
            }
            Self::Transport(_) => true,
            Self::PinMismatch | Self::CircuitOpen => false,
        }
    }

    /// Whether it says the receiver (or the way to it) is away, which the breaker counts.
    pub(crate) fn is_outage(&self) -> bool {
        match self {
            Self::Status { status, .. } => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            Self::Grpc { code, .. } => matches!(code, 4 | 8 | 14),
            Self::CircuitOpen => false,
            Self::Transport(_) | Self::PinMismatch => true,
        }
    }

    /// The wait the receiver asked for.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } | Self::Grpc { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// gRPC's name for a status code.
fn grpc_code_name(code: i32) -> &'static str {
    let names = &crate::instrument::grpc_names::GRPC_STATUS_NAMES;
    usize::try_from(code).ok().and_then(|i| names.get(i)).copied().unwrap_or("(unknown code)")
}

impl From<HttpError> for OtlpError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::PinMismatch => Self::PinMismatch,
            other => Self::Transport(other.to_string()),
        }
    }
}

/// An accepted request: how many of its points the receiver says it rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) rejected: u64,
}

/// The headers every request carries: the content type, the encoding, the configured ones.
pub(crate) fn headers(c: &OtlpConfig) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = vec![(header::CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"))];
    if c.compression == OtlpCompression::Gzip {
        out.push((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
    }
    for (name, value) in &c.headers {
        // Both checked at build.
        if let (Ok(name), Ok(mut value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            value.set_sensitive(true);
            out.push((name, value));
        }
    }
    out
}

/// `body` as it goes on the wire.
pub(crate) fn wire_body(c: &OtlpConfig, body: &[u8]) -> Bytes {
    match c.compression {
        OtlpCompression::None => Bytes::copy_from_slice(body),
        OtlpCompression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
            // Writing to a Vec cannot fail.
            let _ = gz.write_all(body);
            Bytes::from(gz.finish().unwrap_or_default())
        }
    }
}

/// Sends one request body (already on the wire's encoding).
pub(crate) async fn send(
    client: &HttpClient,
    c: &OtlpConfig,
    headers: &[(HeaderName, HeaderValue)],
    body: Bytes,
) -> Result<Accepted, OtlpError> {
    let to = Target { https: c.https, host: &c.host, port: c.port };
    let out = Outgoing { method: Method::POST, path: &c.path, headers, body, answer_limit: MAX_ANSWER_BYTES };
    let answer = client.send(to, out, c.timeout).await?;
    if !answer.status.is_success() {
        return Err(OtlpError::Status { status: answer.status, retry_after: answer.retry_after });
    }
    // An answer that is not a response message is taken for a full success, as the
    // specification says of an empty one.
    let rejected = ExportMetricsServiceResponse::decode(answer.body)
        .ok()
        .and_then(|r| r.partial_success)
        .map_or(0, |p| u64::try_from(p.rejected_data_points).unwrap_or(0));
    Ok(Accepted { rejected })
}
