//! The label values of the HTTP layer: method, route and status, each from a bounded set.

use std::borrow::Cow;

use http::{Extensions, HeaderMap, Method, Uri};

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
}

impl StatusLabel {
    /// Writes the label for `outcome`, using `buf` for codes.
    pub(crate) fn text(self, outcome: Outcome, buf: &mut itoa::Buffer) -> &str {
        const CLASSES: [&str; 10] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"];
        match outcome {
            Outcome::Cancelled => STATUS_CANCELLED,
            Outcome::Error => STATUS_ERROR,
            // `http::StatusCode` holds 100..=999, so the class is one digit.
            Outcome::Status(code) => match self {
                Self::Code => buf.format(code),
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
}
