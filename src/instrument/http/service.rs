//! The tower `Service` the layer wraps around an HTTP service, and its response future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::HttpResponseBody;
use super::labels::{grpc_code, is_grpc, method_label, Outcome, RequestInfo, RouteLabel, StatusLabel, GRPC_STATUS};
use super::record::Recording;
use super::Shared;

/// An HTTP service measured by [`crate::HttpMetricsLayer`].
#[derive(Debug, Clone)]
pub struct HttpMetricsService<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
}

impl<S> HttpMetricsService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for HttpMetricsService<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Body,
    ResB: Body,
{
    type Response = Response<HttpResponseBody<ResB>>;
    type Error = S::Error;
    type Future = HttpResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let recording = self.shared.start(&req);
        HttpResponseFuture { inner: self.inner.call(req), recording: Some(recording) }
    }
}

impl Shared {
    /// The route label: the classifier, then the router's matched path, then the fixed value.
    fn route(&self, info: &RequestInfo<'_>) -> RouteLabel {
        if let Some(route) = self.classifier.as_ref().and_then(|c| c(info)) {
            return RouteLabel::Text(route);
        }
        #[cfg(feature = "axum")]
        if self.matched_path {
            if let Some(m) = info.extensions.get::<axum::extract::MatchedPath>() {
                return RouteLabel::Matched(m.clone());
            }
        }
        RouteLabel::Shared(Arc::clone(&self.unmatched))
    }

    fn start<B: Body>(self: &Arc<Self>, req: &Request<B>) -> Recording {
        let method = method_label(req.method());
        let route = self.route(&RequestInfo::new(req));
        let in_flight = self.in_flight.with(&[method, route.as_str()]);
        in_flight.inc();
        let request_bytes = self.sizes.as_ref().and_then(|_| {
            req.body()
                .size_hint()
                .exact()
                .or_else(|| req.headers().get(http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse::<u64>().ok())
        });
        Recording {
            shared: Arc::clone(self),
            method,
            route,
            in_flight,
            started: Instant::now(),
            request_bytes,
            response_bytes: 0,
            outcome: Outcome::Cancelled,
        }
    }
}

pin_project! {
    /// The response future of [`HttpMetricsService`].
    #[derive(Debug)]
    pub struct HttpResponseFuture<F> {
        #[pin]
        inner: F,
        recording: Option<Recording>,
    }
}

impl<F, ResB, E> Future for HttpResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = Result<Response<HttpResponseBody<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut recording = this.recording.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(r) = recording.as_mut() {
                    r.outcome = match r.shared.status {
                        StatusLabel::Grpc => grpc_outcome(&response),
                        _ => Outcome::Status(response.status().as_u16()),
                    };
                }
                Ok(response.map(|body| HttpResponseBody::new(body, recording)))
            }
            Err(e) => {
                if let Some(r) = recording.as_mut() {
                    r.outcome = Outcome::Error;
                }
                Err(e)
            }
        })
    }
}

/// A gRPC answer's status: in the headers of a trailers-only answer, else still to come in
/// the trailers; a response that is not gRPC keeps its HTTP code.
fn grpc_outcome<B>(response: &Response<B>) -> Outcome {
    match response.headers().get(GRPC_STATUS) {
        Some(code) => Outcome::Grpc(grpc_code(code)),
        None if is_grpc(response.headers()) => Outcome::GrpcPending,
        None => Outcome::Status(response.status().as_u16()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response<()> {
        let mut b = Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn grpc_status_from_the_headers_or_later_from_the_trailers_else_the_http_code() {
        let trailers_only = response(200, &[("content-type", "application/grpc"), ("grpc-status", "5")]);
        assert_eq!(grpc_outcome(&trailers_only), Outcome::Grpc(5));
        let streaming = response(200, &[("content-type", "application/grpc+proto")]);
        assert_eq!(grpc_outcome(&streaming), Outcome::GrpcPending);
        let health_check = response(404, &[("content-type", "text/plain")]);
        assert_eq!(grpc_outcome(&health_check), Outcome::Status(404));
        assert_eq!(grpc_outcome(&response(503, &[])), Outcome::Status(503));
    }
}
