//! The response body the layer hands back: the inner body, counting the bytes it yields; the
//! request is recorded when the body ends or is dropped.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

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
        match &frame {
            Some(Ok(f)) => {
                if let (Some(data), Some(r)) = (f.data_ref(), this.recording.as_mut()) {
                    r.response_bytes = r.response_bytes.saturating_add(data.remaining() as u64);
                }
            }
            // The end, or an error that ends the body: record now.
            Some(Err(_)) | None => drop(this.recording.take()),
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
