//! One request's measurement, from the call to the end of its response body. Whatever way
//! the request ends (body finished or dropped, service error, future dropped), `Drop` records
//! it exactly once and brings the in-flight gauge back down.

use std::sync::Arc;
use std::time::Instant;

use super::labels::{Outcome, RouteLabel};
use super::Shared;
use crate::registry::family::hash_parts;
use crate::{Gauge, HistogramFamily};

pub(crate) struct Recording {
    pub(crate) shared: Arc<Shared>,
    pub(crate) method: &'static str,
    pub(crate) route: RouteLabel,
    pub(crate) in_flight: Gauge,
    pub(crate) started: Instant,
    pub(crate) request_bytes: Option<u64>,
    pub(crate) response_bytes: u64,
    pub(crate) outcome: Outcome,
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.in_flight.dec();
        let s = &*self.shared;
        let mut buf = itoa::Buffer::new();
        let status = s.status.text(self.outcome, &mut buf);
        let labels = [self.method, self.route.as_str(), status];
        // One label set for every family: hash it once. The values are finite by construction.
        let hash = hash_parts(&labels);
        let observe = |family: &HistogramFamily, v: f64| family.fam.with_series_hashed(hash, &labels, |h| h.observe(v));
        s.requests.fam.with_series_hashed(hash, &labels, |c| c.add(1));
        observe(&s.duration, self.started.elapsed().as_secs_f64());
        if let Some(sizes) = &s.sizes {
            if let Some(n) = self.request_bytes {
                observe(&sizes.request, n as f64);
            }
            if matches!(self.outcome, Outcome::Status(_) | Outcome::Grpc(_)) {
                observe(&sizes.response, self.response_bytes as f64);
            }
        }
    }
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("method", &self.method)
            .field("route", &self.route.as_str())
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}
