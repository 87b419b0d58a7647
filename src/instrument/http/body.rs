//! The response body the layer hands back: the inner body, counting the bytes it yields; the
//! request is recorded when the body ends or is dropped.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::labels::{grpc_code, Outcome, GRPC_STATUS};
use super::record::Recording;

pin_project! {
    /// A response body measured by [`crate::HttpMetricsLayer`]: the request is recorded when
    /// the body ends, fails or is dropped.
    #[derive(Debug)]
    pub struct HttpResponseBody<B> {
        #[pin]
        inner: B,
        recording: Option<Recording>,
    }
}

impl<B> HttpResponseBody<B> {
    pub(crate) fn new(inner: B, recording: Option<Recording>) -> Self {
        Self { inner, recording }
    }
}

impl<B: Body> Body for HttpResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        let Some(r) = this.recording.as_mut() else { return Poll::Ready(frame) };
        match &frame {
            Some(Ok(f)) => {
                if let Some(data) = f.data_ref() {
                    r.response_bytes = r.response_bytes.saturating_add(data.remaining() as u64);
                } else if let (Outcome::GrpcPending, Some(trailers)) = (r.outcome, f.trailers_ref()) {
                    if let Some(code) = trailers.get(GRPC_STATUS) {
                        r.outcome = Outcome::Grpc(grpc_code(code));
                    }
                }
            }
            // The end, or an error that ends the body: record now. A gRPC answer that ends
            // without its status failed.
            Some(Err(_)) | None => {
                if r.outcome == Outcome::GrpcPending {
                    r.outcome = Outcome::Error;
                }
                drop(this.recording.take());
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
