//! The label values of the HTTP layer: method, route and status, each from a bounded set.

use std::borrow::Cow;

use http::{Extensions, HeaderMap, HeaderValue, Method, Uri};

/// The `method` label: the nine standard methods as they are, anything else `OTHER`, so a
/// client cannot mint series by inventing methods.
pub(crate) fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// How the `status` label is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StatusLabel {
    /// The three-digit code: `200`, `404`, `503` (the default).
    #[default]
    Code,
    /// The class: `2xx`, `4xx`, `5xx` (fewer series).
    Class,
    /// For gRPC services (tonic): the call's status from `grpc-status` (in the response
    /// headers of a trailers-only answer, else in the trailers) by its name in the gRPC
    /// specification: `OK`, `NOT_FOUND`, `UNAVAILABLE`, … ([`GRPC_STATUS_NAMES`]). A value
    /// outside the specification counts as `UNKNOWN`, as gRPC clients read it. A response
    /// that is not gRPC (no `grpc-status`, content type not `application/grpc`) keeps its
    /// HTTP code, so a health check beside the gRPC services still reads `200`. A gRPC
    /// response whose body fails or ends without a status is [`STATUS_ERROR`]; one dropped
    /// before its trailers (the client reset the call) is [`STATUS_CANCELLED`].
    Grpc,
}

/// The `status` values of [`StatusLabel::Grpc`], indexed by gRPC status code (0 to 16).
pub const GRPC_STATUS_NAMES: [&str; 17] = crate::instrument::grpc_names::GRPC_STATUS_NAMES;

/// The gRPC status header (and trailer).
pub(crate) const GRPC_STATUS: &str = "grpc-status";

/// The code a `grpc-status` value carries: its decimal value when the specification defines
/// it, else `UNKNOWN` (2), which is how gRPC clients read a code they do not know.
pub(crate) fn grpc_code(value: &HeaderValue) -> u8 {
    const UNKNOWN: u8 = 2;
    match value.as_bytes() {
        [d @ b'0'..=b'9'] => d - b'0',
        [b'1', d @ b'0'..=b'6'] => 10 + (d - b'0'),
        _ => UNKNOWN,
    }
}

/// Whether a response without `grpc-status` in its headers is a gRPC one, whose status then
/// comes in the trailers.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(http::header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// `status` when the inner service returned an error instead of a response.
pub const STATUS_ERROR: &str = "error";
/// `status` when the request was dropped before a response: the client went away, or a
/// timeout further out cancelled it.
pub const STATUS_CANCELLED: &str = "cancelled";

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Cancelled,
    Error,
    Status(u16),
    /// A gRPC status code, 0 to 16.
    Grpc(u8),
    /// A gRPC response whose status is still to come in the trailers.
    GrpcPending,
}

impl StatusLabel {
    /// Writes the label for `outcome`, using `buf` for codes.
    pub(crate) fn text(self, outcome: Outcome, buf: &mut itoa::Buffer) -> &str {
        const CLASSES: [&str; 10] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"];
        match outcome {
            Outcome::Cancelled | Outcome::GrpcPending => STATUS_CANCELLED,
            Outcome::Error => STATUS_ERROR,
            Outcome::Grpc(code) => GRPC_STATUS_NAMES.get(usize::from(code)).copied().unwrap_or("UNKNOWN"),
            // `http::StatusCode` holds 100..=999, so the class is one digit.
            Outcome::Status(code) => match self {
                Self::Code | Self::Grpc => buf.format(code),
                Self::Class => CLASSES[usize::from(code / 100).min(9)],
            },
        }
    }
}

/// What a route classifier sees of a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) extensions: &'a Extensions,
}

impl<'a> RequestInfo<'a> {
    /// A view of a request's head (for testing a classifier).
    pub fn new<B>(request: &'a http::Request<B>) -> Self {
        Self {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            extensions: request.extensions(),
        }
    }

    /// The request method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The request URI. Its path is what clients chose: map it to a template, never return it.
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The request extensions (where routers leave the matched route).
    pub fn extensions(&self) -> &'a Extensions {
        self.extensions
    }
}

/// Maps a request to its route template, or `None` to fall through to the next source.
pub(crate) type Classifier = dyn Fn(&RequestInfo<'_>) -> Option<Cow<'static, str>> + Send + Sync;

/// The `route` label of one request.
#[derive(Debug, Clone)]
pub(crate) enum RouteLabel {
    Text(Cow<'static, str>),
    /// The fixed value for unmatched requests: cloned per request without allocating.
    Shared(std::sync::Arc<str>),
    #[cfg(feature = "axum")]
    Matched(axum::extract::MatchedPath),
}

impl RouteLabel {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Text(t) => t,
            Self::Shared(s) => s,
            #[cfg(feature = "axum")]
            Self::Matched(m) => m.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"PROPFIND").unwrap()), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "OTHER");
    }

    #[test]
    fn status_as_code_or_class() {
        let mut b = itoa::Buffer::new();
        assert_eq!(StatusLabel::Code.text(Outcome::Status(404), &mut b), "404");
        assert_eq!(StatusLabel::Class.text(Outcome::Status(404), &mut b), "4xx");
        assert_eq!(StatusLabel::Class.text(Outcome::Status(999), &mut b), "9xx");
        assert_eq!(StatusLabel::Code.text(Outcome::Cancelled, &mut b), "cancelled");
        assert_eq!(StatusLabel::Class.text(Outcome::Error, &mut b), "error");
    }

    #[test]
    fn grpc_status_values_outside_the_specification_are_unknown() {
        let code = |v: &[u8]| grpc_code(&HeaderValue::from_bytes(v).unwrap());
        for (n, name) in GRPC_STATUS_NAMES.iter().enumerate() {
            assert_eq!(GRPC_STATUS_NAMES[usize::from(code(n.to_string().as_bytes()))], *name);
        }
        for hostile in [&b"17"[..], b"99", b"-1", b"05", b" 5", b"5 ", b"", b"OK", b"1\xff", b"2147483648"] {
            assert_eq!(code(hostile), 2, "{:?}", String::from_utf8_lossy(hostile));
        }
        let mut b = itoa::Buffer::new();
        assert_eq!(StatusLabel::Grpc.text(Outcome::Grpc(5), &mut b), "NOT_FOUND");
        assert_eq!(StatusLabel::Grpc.text(Outcome::Status(404), &mut b), "404");
        assert_eq!(StatusLabel::Grpc.text(Outcome::GrpcPending, &mut b), "cancelled");
    }
}
